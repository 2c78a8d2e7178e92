import * as crypto from 'node:crypto';
import { RevocableError } from '../errors/revocable-error.js';
import { charCodeAt } from '../lib/char-code.js';
import { isExpired, isIssuedInFuture, isNotYetValid } from './claims.js';
import type { ParsedHeader } from './header.js';
import type { JwtClaims } from './types.js';

/**
 * The number of tokens a verifier created with `cache: true` remembers: the distinct access tokens
 * a busy server sees within one access-token lifetime (one per active client, two around a refresh),
 * in about 17 MB when full (some 235 bytes a token, and 2 MB of recent tokens kept verbatim). The
 * memory of the entries is taken as tokens arrive.
 */
const DEFAULT_CACHE_SIZE = 65_536;
const MAX_CACHE_SIZE = 1_000_000;

/**
 * Once the cache is full of live tokens, the share of misses that replace the oldest one. Admitting
 * every miss turned a working set bigger than the cache into a miss on every verify, each paying for
 * an eviction, an insertion and a digest; admitting a few keeps what is cached long enough to be hit
 * again (about capacity / working set of the verifies), favours the tokens seen most, and spreads
 * the cost of admission over many misses.
 */
const ADMISSION_RATE = 1 / 64;

// Slots are taken as tokens arrive, from this many, doubling.
const INITIAL_SLOTS = 64;

/**
 * The most tokens kept verbatim for a hit without a digest (see the class): a power of two. At
 * about 500 bytes a token, 2 MB at most, whatever the capacity.
 */
const MAX_RECENT = 4096;

// Node.js 20.12 added the one-shot hash, a third of the cost of createHash for a token. A string is
// hashed as UTF-8, which maps lone surrogates alike; a stored digest is of a token that verified,
// all base64url and so ASCII, and no string with any other character has the same UTF-8 bytes.
const oneShotHash = (crypto as { hash?: typeof crypto.hash }).hash;
const sha256: (text: string) => string =
  typeof oneShotHash === 'function'
    ? (text) => oneShotHash('sha256', text, 'binary')
    : (text) => crypto.createHash('sha256').update(text).digest('binary');

/** Word 0 to 3 of a digest as 32 latin1 ('binary') characters: its first 128 bits. */
function digestWord(digest: string, word: number): number {
  const at = word * 4;
  return (
    charCodeAt(digest, at) |
    (charCodeAt(digest, at + 1) << 8) |
    (charCodeAt(digest, at + 2) << 16) |
    (charCodeAt(digest, at + 3) << 24)
  );
}

/**
 * A 30-bit number from the first characters of the signature segment (from `start`, the index
 * after the token's last dot), where the table looks a token up. A cached signature is the output
 * of a signature or MAC, so its characters are already uniformly spread; reading a few of them
 * costs less than hashing the segment for a Map, and the number retains nothing of the token. It
 * only finds a candidate: the digest, or the comparison with a token kept verbatim, decides.
 */
function signatureKey(token: string, start: number): number {
  const end = Math.min(token.length, start + 8);
  let key = 0x811c9dc5;
  for (let i = start; i < end; i++) key = Math.imul(key ^ charCodeAt(token, i), 0x01000193);
  return (key ^ (key >>> 15)) & 0x3fffffff;
}

/**
 * The token as a string of its own. The one a verifier is given is often a slice of a longer
 * string (the Authorization header, or a Cookie header of several kilobytes), and keeping the slice
 * would keep all of it. A verified token is base64url, so latin1 carries it unchanged.
 */
function ownCopy(token: string): string {
  return Buffer.from(token, 'latin1').toString('latin1');
}

/**
 * Whether `presented` is exactly `cached`, the signature segment (from the last dot, at `lastDot`
 * in `presented`) compared in constant time first. A cached token is a bearer credential and its
 * signature is what makes it one: `===`, which stops at the first differing character, would tell
 * by its time how much of a guessed signature was right. Only once all of the signature matches is
 * the rest (header and payload, which that signature vouches for) compared with `===`. A loop over
 * both strings, the same steps whatever their characters, and no allocation.
 */
function sameToken(presented: string, cached: string, lastDot: number): boolean {
  const length = presented.length;
  if (cached.length !== length) return false;
  let difference = 0;
  for (let i = lastDot; i < length; i++) {
    difference |= charCodeAt(presented, i) ^ charCodeAt(cached, i);
  }
  return difference === 0 && presented === cached;
}

/**
 * The results of a verifier's recent successful verifications. A client sends the same access
 * token with every request until it expires, and the signature and the claims of a token cannot
 * change, so a verifier need not recompute them.
 *
 * What a remembered token costs, and why:
 * - Not the token. Keeping it (about 450 bytes) to compare on a hit was over half of each entry.
 *   A hit is found by a number read from the signature segment and then proved by the first 128
 *   bits of the SHA-256 of the whole token, compared with the digest of the token that verified.
 *   Anyone may know a cached signature, so a forgery reusing it must never hit: that needs a
 *   second preimage of SHA-256, not a collision of a cheap hash. The price is the digest on a hit
 *   (0.5 µs in a tight loop; 1.3 to 3 µs in a server, between the framework's work on requests,
 *   when OpenSSL's code and tables have left the CPU caches: the larger part of what the HTTP
 *   guard cost a request); a miss never computes one unless the token is admitted.
 * - Except for the recent ones: up to {@link MAX_RECENT} tokens verbatim, one per cell of a table
 *   indexed by the same number: the last token admitted to it, or one proved by its digest while
 *   the cell was free. A token found there is proved by comparing strings ({@link sameToken}),
 *   with no digest. This bounds the memory of the verbatim tokens (2 MB) while the tokens of a
 *   process's active clients, when they are fewer, are answered at the price of a comparison; with
 *   more of them, some requests pay the digest.
 * - The claims, frozen (every hit returns the same object), with a string claim that equals the
 *   same claim of the token admitted before (`iss`, `aud`, a role) sharing its string.
 * - No object per entry: parallel arrays indexed by slot, and an open-addressing table of slots.
 *   The time claims are read from the frozen claims on a hit.
 *
 * Only tokens that verified are kept, so a stream of forgeries cannot fill it. A slot whose token
 * has expired is reused first; when every slot holds a live token, a miss replaces the oldest only
 * at {@link ADMISSION_RATE}. Everything is forgotten when the key ring's revision changes (a key
 * added or retired), and the time claims are checked again on every hit.
 */
export class VerificationCache {
  readonly #capacity: number;
  readonly #tolerance: number;
  #revision: number;
  // Slot s: claims[s] (undefined when free), headers[s], keys[s], digests[4s..4s+3].
  #claims: (JwtClaims | undefined)[] = [];
  #headers: (ParsedHeader | undefined)[] = [];
  #keys = new Int32Array(0);
  #digests = new Int32Array(0);
  // Slot + 1 by signature key, linear probing; at most half full. 0 is an empty cell.
  #table = new Int32Array(0);
  // By signature key & (cells - 1): a token verbatim, and its slot + 1 (0: none).
  readonly #recentTokens: string[];
  readonly #recentSlots: Int32Array;
  #size = 0;
  // The oldest slot, the next to be replaced.
  #hand = 0;
  // The latest time known to have been reached, in epoch seconds.
  #time = Number.NEGATIVE_INFINITY;
  // Per claim name, the string the last admitted token had there.
  readonly #recent = new Map<string, string>();

  constructor(capacity: number, revision: number, tolerance: number) {
    this.#capacity = capacity;
    this.#revision = revision;
    this.#tolerance = tolerance;
    let cells = 1;
    while (cells < MAX_RECENT && cells < capacity) cells *= 2;
    this.#recentTokens = new Array<string>(cells).fill('');
    this.#recentSlots = new Int32Array(cells);
  }

  /**
   * The slot of exactly `token`, whose last dot is at `lastDot`, under this ring revision,
   * if its time claims hold at `now()`; otherwise -1 (and a token whose time claims no longer
   * hold is forgotten: the full verification throws the exact error).
   */
  lookup(token: string, lastDot: number, revision: number, now: () => number): number {
    if (revision !== this.#revision) {
      this.#clear();
      this.#revision = revision;
      return -1;
    }
    if (this.#size === 0) return -1;
    const key = signatureKey(token, lastDot + 1);
    const cell = key & (this.#recentSlots.length - 1);
    let slot = this.#recentSlots[cell]! - 1;
    // The cell's slot must have this key before its token is compared: a cell shared by two
    // tokens then costs the other one an integer compare, not a loop over its signature.
    if (
      slot === -1 ||
      this.#keys[slot] !== key ||
      !sameToken(token, this.#recentTokens[cell]!, lastDot)
    ) {
      slot = this.#find(key);
      if (slot === -1 || !this.#digestMatches(slot, token)) return -1;
      // Into a free cell only: taking an occupied one would copy a token on every request while
      // two tokens sharing a cell alternate, each pushing the other out.
      if (this.#recentSlots[cell] === 0) this.#keepRecent(cell, slot, token);
    }
    const claims = this.#claims[slot]!;
    const time = now();
    if (time > this.#time) this.#time = time;
    const tolerance = this.#tolerance;
    // The claims are frozen and were checked to be numbers when present; an absent one never fails.
    if (
      isExpired(claims.exp ?? Number.POSITIVE_INFINITY, time, tolerance) ||
      isNotYetValid(claims.nbf ?? Number.NEGATIVE_INFINITY, time, tolerance) ||
      isIssuedInFuture(claims.iat ?? Number.NEGATIVE_INFINITY, time, tolerance)
    ) {
      this.#release(slot);
      return -1;
    }
    return slot;
  }

  #digestMatches(slot: number, token: string): boolean {
    const digest = sha256(token);
    const at = slot * 4;
    const digests = this.#digests;
    return (
      digests[at] === digestWord(digest, 0) &&
      digests[at + 1] === digestWord(digest, 1) &&
      digests[at + 2] === digestWord(digest, 2) &&
      digests[at + 3] === digestWord(digest, 3)
    );
  }

  /** Keeps `token`, just proved or admitted to `slot`, verbatim in its cell. */
  #keepRecent(cell: number, slot: number, token: string): void {
    this.#recentTokens[cell] = ownCopy(token);
    this.#recentSlots[cell] = slot + 1;
  }

  /** The claims of a slot `lookup` returned. */
  claimsAt(slot: number): JwtClaims {
    return this.#claims[slot]!;
  }

  /** The parsed header of a slot `lookup` returned. */
  headerAt(slot: number): ParsedHeader {
    return this.#headers[slot]!;
  }

  /**
   * Freezes the claims of a token that has just verified, and may keep them. They are frozen
   * whether kept or not, so that a caller cannot tell a hit from a miss by them: every hit hands the
   * same object to its caller, and one caller's change must not become the next one's claims.
   */
  remember(
    token: string,
    lastDot: number,
    claims: JwtClaims,
    header: ParsedHeader,
    now: () => number,
  ): void {
    const slot = this.#admit(claims, now);
    // Shared before the freeze, which would forbid it.
    if (slot !== -1) this.#shareStrings(claims);
    deepFreeze(claims);
    if (slot === -1) return;
    const key = signatureKey(token, lastDot + 1);
    // Another token with the same key (one chance in 2^30 per pair) gives its place up.
    const other = this.#find(key);
    if (other !== -1 && other !== slot) this.#release(other);
    this.#claims[slot] = claims;
    this.#headers[slot] = header;
    this.#keys[slot] = key;
    const digest = sha256(token);
    const at = slot * 4;
    for (let word = 0; word < 4; word++) this.#digests[at + word] = digestWord(digest, word);
    this.#place(key, slot);
    // A token just admitted takes its cell, whoever held it: the newest are likeliest to return.
    this.#keepRecent(key & (this.#recentSlots.length - 1), slot, token);
  }

  /** The slot a newly verified token may take, or -1 when it is not admitted. */
  #admit(claims: JwtClaims, now: () => number): number {
    // A lower bound of the time, without a clock call on every miss: the token has just passed the
    // iat check, so now >= iat - tolerance. Without iat, the clock. A bound too high (the clock
    // stepped back) only frees a slot early; the answers never depend on what is cached.
    const iat = claims.iat;
    const atLeast = typeof iat === 'number' ? iat - this.#tolerance : now();
    if (atLeast > this.#time) this.#time = atLeast;
    if (this.#size > 0) {
      const oldest = this.#claims[this.#hand];
      if (
        oldest === undefined ||
        isExpired(oldest.exp ?? Number.POSITIVE_INFINITY, this.#time, this.#tolerance)
      ) {
        return this.#replaceOldest();
      }
    }
    if (this.#size < this.#capacity) {
      if (this.#size === this.#keys.length) this.#grow();
      return this.#size++;
    }
    return Math.random() < ADMISSION_RATE ? this.#replaceOldest() : -1;
  }

  #replaceOldest(): number {
    const slot = this.#hand;
    if (this.#claims[slot] !== undefined) this.#release(slot);
    this.#hand = slot + 1 === this.#size ? 0 : slot + 1;
    return slot;
  }

  /** Shares a string claim with the same claim of the token admitted before, when they are equal. */
  #shareStrings(claims: JwtClaims): void {
    const recent = this.#recent;
    for (const name of Object.keys(claims)) {
      const value = claims[name];
      if (typeof value !== 'string' || name === '__proto__') continue;
      const previous = recent.get(name);
      if (previous === value) claims[name] = previous;
      else if (previous !== undefined || recent.size < 64) recent.set(name, value);
    }
  }

  #find(key: number): number {
    const table = this.#table;
    const mask = table.length - 1;
    for (let cell = key & mask; ; cell = (cell + 1) & mask) {
      const entry = table[cell]!;
      if (entry === 0) return -1;
      if (this.#keys[entry - 1] === key) return entry - 1;
    }
  }

  #place(key: number, slot: number): void {
    const table = this.#table;
    const mask = table.length - 1;
    let cell = key & mask;
    while (table[cell] !== 0) cell = (cell + 1) & mask;
    table[cell] = slot + 1;
  }

  /** Frees a slot and removes it from the table, moving back the entries probed past it. */
  #release(slot: number): void {
    this.#claims[slot] = undefined;
    this.#headers[slot] = undefined;
    // The token kept verbatim for this slot, if any, goes with it: a cell never names a slot that
    // holds another token.
    const cell = this.#keys[slot]! & (this.#recentSlots.length - 1);
    if (this.#recentSlots[cell] === slot + 1) {
      this.#recentSlots[cell] = 0;
      this.#recentTokens[cell] = '';
    }
    const table = this.#table;
    const mask = table.length - 1;
    let hole = this.#keys[slot]! & mask;
    while (table[hole] !== slot + 1) hole = (hole + 1) & mask;
    table[hole] = 0;
    for (let cell = (hole + 1) & mask; table[cell] !== 0; cell = (cell + 1) & mask) {
      const entry = table[cell]!;
      const home = this.#keys[entry - 1]! & mask;
      // The entry may fill the hole if its home is not cyclically within (hole, cell].
      const reachable = hole <= cell ? home > hole && home <= cell : home > hole || home <= cell;
      if (!reachable) {
        table[hole] = entry;
        table[cell] = 0;
        hole = cell;
      }
    }
  }

  #grow(): void {
    const slots = Math.min(this.#capacity, Math.max(INITIAL_SLOTS, this.#keys.length * 2));
    const keys = new Int32Array(slots);
    keys.set(this.#keys);
    const digests = new Int32Array(slots * 4);
    digests.set(this.#digests);
    this.#keys = keys;
    this.#digests = digests;
    let cells = 2;
    while (cells < slots * 2) cells *= 2;
    this.#table = new Int32Array(cells);
    for (let slot = 0; slot < this.#size; slot++) {
      if (this.#claims[slot] !== undefined) this.#place(keys[slot]!, slot);
    }
  }

  #clear(): void {
    this.#claims = [];
    this.#headers = [];
    this.#keys = new Int32Array(0);
    this.#digests = new Int32Array(0);
    this.#table = new Int32Array(0);
    this.#size = 0;
    this.#hand = 0;
    this.#recent.clear();
    this.#recentSlots.fill(0);
    this.#recentTokens.fill('');
  }
}

/** The capacity the `cache` option asks for: 0 for none. */
export function cacheCapacity(option: unknown): number {
  if (option === undefined || option === false) return 0;
  if (option === true) return DEFAULT_CACHE_SIZE;
  if (
    typeof option === 'number' &&
    Number.isInteger(option) &&
    option >= 0 &&
    option <= MAX_CACHE_SIZE
  ) {
    return option;
  }
  throw new RevocableError(
    'ERR_INVALID_ARGUMENT',
    `cache must be a boolean or an integer from 0 to ${MAX_CACHE_SIZE}.`,
  );
}

/**
 * Freezes a claims set and everything in it (without recursion: a payload may nest deeply). This is
 * on every miss, so the usual claims, with no member that is an object, cost one `Object.freeze`
 * and one pass over their members, and allocate nothing.
 */
function deepFreeze(root: JwtClaims): void {
  Object.freeze(root);
  let pending: object[] | undefined;
  for (const name in root) {
    const member = root[name];
    // for-in also lists inherited members; only the claims' own are theirs to freeze.
    if (typeof member !== 'object' || member === null || !Object.hasOwn(root, name)) continue;
    if (pending === undefined) pending = [];
    pending.push(member);
  }
  if (pending === undefined) return;
  for (let value = pending.pop(); value !== undefined; value = pending.pop()) {
    if (Object.isFrozen(value)) continue;
    Object.freeze(value);
    for (const member of Object.values(value)) {
      if (typeof member === 'object' && member !== null) pending.push(member);
    }
  }
}
