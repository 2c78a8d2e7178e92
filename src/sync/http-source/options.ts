import { RevocableError } from '../../errors/revocable-error.js';
import { KeyRing } from '../../jwt/key-ring.js';
import { parseDuration } from '../../lib/duration.js';
import { assertKnownOptions, type OptionNames } from '../../lib/known-options.js';
import type { RevocationIndex } from '../../revocation/types.js';
import { type FeedEndpoints, feedEndpoints } from './endpoints.js';
import { describeError, type FetchFunction } from './http-request.js';
import type { HttpRevocationSourceOptions } from './types.js';

/** The options, checked, with their defaults, durations in milliseconds. */
export interface ResolvedOptions {
  readonly endpoints: FeedEndpoints;
  readonly index: RevocationIndex;
  readonly keys: KeyRing;
  readonly fetch: FetchFunction;
  readonly headers: Readonly<Record<string, string>>;
  readonly heartbeatTimeoutMs: number;
  readonly reconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  readonly keyRefreshIntervalMs: number;
  /** Seconds, as the index's clock counts them. */
  readonly droppedKeyGrace: number;
  /** Seconds, as `SyncHealth` reports it. */
  readonly maxStaleness: number;
  readonly requestTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly maxMessageLength: number;
  readonly onError: (error: unknown) => void;
}

// Seconds a key dropped from the JWKS is held (see droppedKeyGrace).
const DEFAULT_DROPPED_KEY_GRACE = 30;
// setTimeout's limit: a longer delay fires at once.
const MAX_DELAY_MS = 2 ** 31 - 1;
// An HTTP token (RFC 9110, section 5.6.2), and a field value without CR, LF or NUL.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;

const OPTION_NAMES: OptionNames<HttpRevocationSourceOptions> = {
  url: true,
  allowInsecureHttp: true,
  index: true,
  keys: true,
  fetch: true,
  headers: true,
  pollInterval: true,
  heartbeatTimeout: true,
  reconnectDelay: true,
  maxReconnectDelay: true,
  keyRefreshInterval: true,
  droppedKeyGrace: true,
  maxStaleness: true,
  requestTimeout: true,
  startTimeout: true,
  maxMessageLength: true,
  onError: true,
};

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function milliseconds(value: unknown, fallback: number, name: string): number {
  const seconds = value === undefined ? fallback : parseDuration(value, name);
  if (!(seconds > 0)) throw invalid(`${name} must be longer than zero.`);
  if (seconds * 1000 > MAX_DELAY_MS) throw invalid(`${name} must be at most 24 days.`);
  return seconds * 1000;
}

function graceSeconds(value: unknown): number {
  if (value === undefined) return DEFAULT_DROPPED_KEY_GRACE;
  const seconds = parseDuration(value, 'droppedKeyGrace');
  if (!(seconds >= 0)) throw invalid('droppedKeyGrace must not be negative.');
  if (seconds * 1000 > MAX_DELAY_MS) throw invalid('droppedKeyGrace must be at most 24 days.');
  return seconds;
}

function checkHeaders(headers: unknown): Readonly<Record<string, string>> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw invalid('headers must be an object of header names and values.');
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw invalid('headers holds a name that is not a header name.');
    // The value is never shown: it may be a credential.
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      throw invalid(`The header ${name} must be a string without line breaks.`);
    }
    out[name.toLowerCase()] = value;
  }
  return Object.freeze(out);
}

function defaultReport(error: unknown): void {
  process.emitWarning(
    `revocable: HTTP revocation source: ${describeError(error)}`,
    'RevocableWarning',
  );
}

/** Checks the options of `createHttpRevocationSource`; `ERR_INVALID_ARGUMENT` for any bad one. */
export function resolveOptions(options: HttpRevocationSourceOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid('createHttpRevocationSource needs options.');
  }
  assertKnownOptions(options, OPTION_NAMES, 'createHttpRevocationSource');
  const { allowInsecureHttp = false } = options;
  if (typeof allowInsecureHttp !== 'boolean') throw invalid('allowInsecureHttp must be a boolean.');
  const endpoints = feedEndpoints(options.url, allowInsecureHttp);
  const { index } = options;
  if (
    typeof index?.apply !== 'function' ||
    typeof index.markFresh !== 'function' ||
    typeof index.onApply !== 'function'
  ) {
    throw invalid('index must be a RevocationIndex.');
  }
  const keys = options.keys ?? new KeyRing();
  if (
    typeof keys?.get !== 'function' ||
    typeof keys.add !== 'function' ||
    typeof keys.retire !== 'function' ||
    typeof keys.keys !== 'function'
  ) {
    throw invalid('keys must be a KeyRing.');
  }
  const fetch = options.fetch ?? globalThis.fetch;
  if (typeof fetch !== 'function') throw invalid('fetch must be a function.');
  const onError = options.onError ?? defaultReport;
  if (typeof onError !== 'function') throw invalid('onError must be a function.');
  const maxMessageLength = options.maxMessageLength ?? 64 * 1024;
  if (!Number.isSafeInteger(maxMessageLength) || maxMessageLength < 1024) {
    throw invalid('maxMessageLength must be an integer of at least 1024.');
  }
  const pollMs = milliseconds(options.pollInterval, 1, 'pollInterval');
  const reconnectDelayMs = milliseconds(options.reconnectDelay, 1, 'reconnectDelay');
  const maxReconnectDelayMs = milliseconds(options.maxReconnectDelay, 5, 'maxReconnectDelay');
  if (maxReconnectDelayMs < reconnectDelayMs) {
    throw invalid('maxReconnectDelay must not be shorter than reconnectDelay.');
  }
  const heartbeatTimeoutMs = milliseconds(
    options.heartbeatTimeout,
    Math.max(5, (3 * pollMs) / 1000),
    'heartbeatTimeout',
  );
  if (heartbeatTimeoutMs <= pollMs) {
    throw invalid('heartbeatTimeout must be longer than pollInterval.');
  }
  return {
    endpoints,
    index,
    keys,
    fetch,
    headers: checkHeaders(options.headers),
    heartbeatTimeoutMs,
    reconnectDelayMs,
    maxReconnectDelayMs,
    keyRefreshIntervalMs: milliseconds(options.keyRefreshInterval, 300, 'keyRefreshInterval'),
    droppedKeyGrace: graceSeconds(options.droppedKeyGrace),
    maxStaleness: milliseconds(options.maxStaleness, 5, 'maxStaleness') / 1000,
    requestTimeoutMs: milliseconds(options.requestTimeout, 10, 'requestTimeout'),
    startTimeoutMs: milliseconds(options.startTimeout, 15, 'startTimeout'),
    maxMessageLength,
    onError,
  };
}
