import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseDuration } from '../../lib/duration.js';
import { hasControlCharacter } from '../../lib/text.js';
import { formatBytes, formatDuration } from './format.js';
import type { SettingKind, SettingValue } from './settings.js';
import type { ConfigSource } from './types.js';

/** A value as one source gave it, before it is read. */
export interface RawValue {
  readonly source: Exclude<ConfigSource, 'default'>;
  /** Text from a flag or a variable, `true`/`false` from a bare or `--no-` flag, JSON from a file. */
  readonly value: unknown;
  /** How a problem line names where the value came from: `--port`, `PORT`, `FILE: port`. */
  readonly label: string;
  /** The folder a relative path is resolved against. */
  readonly base: string;
}

/** The value read, or the one problem line that says what is wrong with it. */
export type Decoded =
  | { readonly ok: true; readonly value: SettingValue }
  | { readonly ok: false; readonly problem: string };

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

function ok(value: SettingValue): Decoded {
  return { ok: true, value };
}

function bad(raw: RawValue, expected: string): Decoded {
  return { ok: false, problem: `${raw.label} must be ${expected}` };
}

/** The JSON type of a value, to say what a configuration file holds without showing it. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function wrongType(raw: RawValue, expected: string): Decoded {
  return bad(raw, `${expected}, not ${jsonType(raw.value)}`);
}

function inRange(raw: RawValue, value: number, min: number, max: number, expected: string) {
  return Number.isSafeInteger(value) && value >= min && value <= max
    ? ok(value)
    : bad(raw, expected);
}

function integer(raw: RawValue, kind: { min: number; max: number }): Decoded {
  const expected = `an integer from ${kind.min} to ${kind.max}`;
  if (typeof raw.value === 'number') return inRange(raw, raw.value, kind.min, kind.max, expected);
  if (raw.source === 'file') return wrongType(raw, `a number (${expected})`);
  const text = String(raw.value).trim();
  return /^\d+$/.test(text)
    ? inRange(raw, Number(text), kind.min, kind.max, expected)
    : bad(raw, expected);
}

function duration(raw: RawValue, kind: { min: number; max: number }): Decoded {
  const range = `${formatDuration(kind.min)} to ${formatDuration(kind.max)}`;
  const expected = `a duration from ${range}: seconds, or a number with s, m, h or d (like 10m)`;
  if (typeof raw.value !== 'number' && typeof raw.value !== 'string') {
    return wrongType(raw, 'a number of seconds or a string like "10m"');
  }
  let seconds: number;
  try {
    seconds = parseDuration(raw.value, raw.label);
  } catch {
    return bad(raw, expected);
  }
  return inRange(raw, seconds, kind.min, kind.max, expected);
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, kib: 1024, mib: 1048576 };

function bytes(raw: RawValue, kind: { min: number; max: number }): Decoded {
  const range = `${formatBytes(kind.min)} to ${formatBytes(kind.max)}`;
  const expected = `a size from ${range}: bytes, or a number with KiB or MiB (like 16KiB)`;
  if (typeof raw.value === 'number') return inRange(raw, raw.value, kind.min, kind.max, expected);
  if (typeof raw.value !== 'string')
    return wrongType(raw, 'a number of bytes or a string like "16KiB"');
  const match = /^(\d+)\s*(kib|mib)?$/i.exec(raw.value.trim());
  if (match === null) return bad(raw, expected);
  const size = Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1);
  return inRange(raw, size, kind.min, kind.max, expected);
}

function boolean(raw: RawValue): Decoded {
  if (typeof raw.value === 'boolean') return ok(raw.value);
  if (raw.source === 'file') return wrongType(raw, 'true or false');
  const word = String(raw.value).trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return bad(raw, 'true or false (or 1/0, yes/no, on/off)');
}

// The names of address ranges the proxy list takes (those of Fastify's trustProxy).
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
/** What `--trust-proxy` alone trusts: proxies on this machine or on a private network. */
export const PRIVATE_PROXIES: readonly string[] = Object.freeze([...PROXY_RANGES]);

// An address (10.0.0.1, ::1), a network (10.0.0.0/8, fd00::/8) or a range's name. Not a /0,
// which would trust every address; not an IPv4 address written as IPv6 (::ffff:10.0.0.1), which
// the address matching never meets (it sees such a client as 10.0.0.1).
function isProxyAddress(item: string): boolean {
  if (PROXY_RANGES.has(item)) return true;
  const slash = item.indexOf('/');
  const address = slash < 0 ? item : item.slice(0, slash);
  const family = isIP(address);
  if (family === 0 || (family === 6 && (address.includes('.') || /^[0:]*:ffff:/.test(address)))) {
    return false;
  }
  if (slash < 0) return true;
  const bits = item.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) >= 1 && Number(bits) <= (family === 4 ? 32 : 128);
}

// Proxies are named by address, never counted: a client that reaches the server directly could
// otherwise write as many X-Forwarded-For entries as the count and choose its own address (why
// Fastify 5 refuses a hop count too). On means the private ranges, never every address.
function proxyTrust(raw: RawValue): Decoded {
  const expected =
    'on or off, or a comma-separated list of proxy addresses or networks (10.0.0.0/8, ::1; loopback, linklocal, uniquelocal)';
  const { value } = raw;
  if (typeof value === 'boolean') return ok(value ? PRIVATE_PROXIES : false);
  let items: unknown[];
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return ok(PRIVATE_PROXIES);
    if (FALSE_WORDS.has(word)) return ok(false);
    items = word.split(',').map((item) => item.trim());
  } else if (Array.isArray(value) && raw.source === 'file') {
    items = value.map((item) => (typeof item === 'string' ? item.trim().toLowerCase() : item));
  } else {
    return wrongType(raw, expected);
  }
  if (items.length === 0) return bad(raw, expected);
  if (!items.every((item): item is string => typeof item === 'string' && isProxyAddress(item))) {
    return bad(raw, expected);
  }
  return ok(Object.freeze([...items]));
}

function choice(raw: RawValue, choices: readonly string[]): Decoded {
  const expected = `one of ${choices.join(', ')}`;
  if (typeof raw.value !== 'string') return wrongType(raw, `a string (${expected})`);
  const word = raw.value.trim().toLowerCase();
  return choices.includes(word) ? ok(word) : bad(raw, expected);
}

function list(raw: RawValue, kind: Extract<SettingKind, { type: 'list' }>): Decoded {
  let items: unknown[];
  if (typeof raw.value === 'string') items = raw.value.split(',').map((item) => item.trim());
  else if (Array.isArray(raw.value) && raw.source === 'file') items = raw.value;
  else return wrongType(raw, 'an array of strings or a comma-separated string');
  if (items.length === 0) return bad(raw, 'a list of at least one value');
  if (!items.every((item): item is string => typeof item === 'string' && kind.check.test(item))) {
    return bad(raw, `a comma-separated list of values, each ${kind.check.expected}`);
  }
  return ok(Object.freeze([...items]));
}

function url(raw: RawValue, protocols: readonly string[]): Decoded {
  // Never the value in the message: a URL may hold a password.
  const expected = `a ${protocols.map((protocol) => `${protocol}//`).join(' or ')} URL`;
  if (typeof raw.value !== 'string') return wrongType(raw, `a string (${expected})`);
  let parsed: URL;
  try {
    parsed = new URL(raw.value);
  } catch {
    return bad(raw, expected);
  }
  return protocols.includes(parsed.protocol) ? ok(raw.value) : bad(raw, expected);
}

/**
 * Reads one raw value as its kind says, and checks its range. Text from flags and variables is
 * parsed; a configuration file must hold the matching JSON type (a number for a port, `true` for
 * a boolean), though durations and sizes may also be strings there (`"10m"`, `"16KiB"`). A problem
 * line names the source and what is expected, never the value: it may be a secret in the wrong
 * place.
 */
export function decodeValue(kind: SettingKind, raw: RawValue): Decoded {
  switch (kind.type) {
    case 'integer':
      return integer(raw, kind);
    case 'duration':
      return duration(raw, kind);
    case 'bytes':
      return bytes(raw, kind);
    case 'boolean':
      return boolean(raw);
    case 'proxy':
      return proxyTrust(raw);
    case 'choice':
      return choice(raw, kind.choices);
    case 'list':
      return list(raw, kind);
    case 'url':
      return url(raw, kind.protocols);
    case 'text':
      if (typeof raw.value !== 'string') return wrongType(raw, 'a string');
      return kind.check.test(raw.value) ? ok(raw.value) : bad(raw, kind.check.expected);
    case 'path':
      if (typeof raw.value !== 'string') return wrongType(raw, 'a string');
      if (raw.value === '' || hasControlCharacter(raw.value)) {
        return bad(raw, 'a path without control characters');
      }
      return ok(resolve(raw.base, raw.value));
    case 'secret':
      return typeof raw.value === 'string' ? ok(raw.value) : wrongType(raw, 'a string');
  }
}
