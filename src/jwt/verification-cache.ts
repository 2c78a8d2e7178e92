import * as crypto from 'node:crypto';
import { RevocableError } from '../errors/revocable-error.js';
import { isExpired, isIssuedInFuture, isNotYetValid } from './claims.js';
import type { ParsedHeader } from './header.js';
import type { JwtClaims } from './types.js';

/**
 * The number of tokens a verifier created with `cache: true` remembers: the distinct access tokens
 * a busy server sees within one access-token lifetime (one per active client, two around a refresh),
 * in about 15 MB when full (some 235 bytes a token). The memory is taken as tokens arrive.
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
    digest.charCodeAt(at) |
    (digest.charCodeAt(at + 1) << 8) |
    (digest.charCodeAt(at + 2) << 16) |
    (digest.charCodeAt(at + 3) << 24)
  );
}

/**
 * A 30-bit number from the first characters of a signature segment, where the table looks a token
 * up. A cached signature is the output of a signature or MAC, so its characters are already
 * uniformly spread; reading a few of them costs less than hashing the segment for a Map, and the
 * number retains nothing of the token. It only finds a candidate: the digest decides.
 */
function signatureKey(signature: string): number {
  const length = Math.min(signature.length, 8);
  let key = 0x811c9dc5;
  for (let i = 0; i < length; i++) key = Math.imul(key ^ signature.charCodeAt(i), 0x01000193);
  return (key ^ (key >>> 15)) & 0x3fffffff;
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
 *   second preimage of SHA-256, not a collision of a cheap hash. The price is the digest on every
 *   hit (about 0.5 µs); a miss never computes one unless the token is admitted.
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
  }

  /**
   * The slot of exactly `token`, whose signature segment is `signature`, under this ring revision,
   * if its time claims hold at `now()`; otherwise -1 (and a token whose time claims no longer
   * hold is forgotten: the full verification throws the exact error).
   */
  lookup(signature: string, token: string, revision: number, now: () => number): number {
    if (revision !== this.#revision) {
      this.#clear();
      this.#revision = revision;
      return -1;
    }
    if (this.#size === 0) return -1;
    const slot = this.#find(signatureKey(signature));
    if (slot === -1) return -1;
    const claims = this.#claims[slot]!;
    const digest = sha256(token);
    const at = slot * 4;
    const digests = this.#digests;
    if (
      digests[at] !== digestWord(digest, 0) ||
      digests[at + 1] !== digestWord(digest, 1) ||
      digests[at + 2] !== digestWord(digest, 2) ||
      digests[at + 3] !== digestWord(digest, 3)
    ) {
      return -1;
    }
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
    signature: string,
    token: string,
    claims: JwtClaims,
    header: ParsedHeader,
    now: () => number,
  ): void {
    const slot = this.#admit(claims, now);
    // Shared before the freeze, which would forbid it.
    if (slot !== -1) this.#shareStrings(claims);
    deepFreeze(claims);
    if (slot === -1) return;
    const key = signatureKey(signature);
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
