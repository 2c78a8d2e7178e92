import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { invalidArgument } from '../../../stores/internal/validate.js';

/**
 * The keys the throttles count under. Every implementation uses these, so that the same login
 * counts the same everywhere, and every key is bounded: anything long or unusual is replaced by
 * its SHA-256 (after a `#`, which no plain key contains, so a hashed key never equals a plain
 * one). Internal: never exported from the package.
 *
 * @example
 * ```ts
 * throttleKeys('Alice', '2001:db8::1'); // { account: 'a:alice', address: 'ip:2001:db8:0:0::/64' }
 * ```
 * @module
 */

const PLAIN_ACCOUNT = /^[a-z0-9._@-]{1,64}$/;
const PLAIN_ADDRESS = /^[0-9a-f.:/]{1,64}$/;

function bounded(text: string, plain: RegExp): string {
  return plain.test(text) ? text : `#${createHash('sha256').update(text).digest('hex')}`;
}

// The eight 16-bit groups of a valid IPv6 address (zone already removed).
function ipv6Groups(address: string): number[] {
  let text = address;
  const last = text.lastIndexOf(':');
  const tail = text.slice(last + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, last + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  const back = rest === undefined ? [] : parse(rest);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

// A proxy may write the client's port as well (`192.0.2.1:5678`, `[2001:db8::1]:443`): the port
// changes with every connection, the client does not.
function withoutPort(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(address);
  if (bracketed !== null) return bracketed[1]!;
  const ipv4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(address);
  return ipv4 === null ? address : ipv4[1]!;
}

/**
 * The network an address is counted as: an IPv4 address as it is; an IPv6 address by its /64
 * (one subscriber usually holds a whole /64, and could otherwise try from 2^64 addresses); an
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports) as its IPv4
 * address; a port after an address is dropped. Anything that is not an IP address (a name a
 * proxy put there) is counted as it is.
 */
export function addressNetwork(given: string): string {
  const address = withoutPort(given);
  const zone = address.indexOf('%');
  const bare = zone >= 0 ? address.slice(0, zone) : address;
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return address.toLowerCase();
  const groups = ipv6Groups(bare);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The counter key of an account: `a:` and the name lower-cased (or its hash). */
export function accountKey(account: unknown): string {
  if (typeof account !== 'string') throw invalidArgument('account must be a string.');
  return `a:${bounded(account.toLowerCase(), PLAIN_ACCOUNT)}`;
}

/** The counter key of a client address: `ip:` and its network (or its hash). */
export function addressKey(address: unknown): string {
  if (typeof address !== 'string') throw invalidArgument('address must be a string.');
  return `ip:${bounded(addressNetwork(address), PLAIN_ADDRESS)}`;
}

/** Both keys of an attempt; `address` is undefined when the attempt has none. */
export function throttleKeys(
  account: unknown,
  address: unknown,
): { account: string; address: string | undefined } {
  return {
    account: accountKey(account),
    address: address === undefined ? undefined : addressKey(address),
  };
}
