/**
 * A few string keys, each with an expiry: the retired `kid`s. A `Map` rather than a hashed table,
 * because a verifier hands over the same `kid` string object on every call (its parsed headers are
 * cached), whose hash V8 keeps: the lookup costs a few nanoseconds, where hashing the string again
 * would cost tens.
 */
export class ExpiringStringMap {
  readonly #entries = new Map<string, number>();
  #earliest = Number.POSITIVE_INFINITY;

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.#entries.size;
  }

  /** The `until` of `key`, or 0. */
  untilOf(key: string): number {
    return this.#entries.get(key) ?? 0;
  }

  /** Adds `key` until `until`, or extends its entry. Whether anything changed. */
  add(key: string, until: number): boolean {
    const stored = this.#entries.get(key);
    if (stored !== undefined && until <= stored) return false;
    this.#entries.set(key, until);
    if (until < this.#earliest) this.#earliest = until;
    return true;
  }

  /** Whether a sweep at `deadline` could remove anything. */
  sweepDue(deadline: number): boolean {
    return this.#earliest <= deadline;
  }

  /** Removes every entry whose `until` is at or before `deadline`. Returns how many. */
  sweep(deadline: number): number {
    let removed = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, until] of this.#entries) {
      if (until <= deadline) {
        this.#entries.delete(key);
        removed++;
      } else if (until < earliest) {
        earliest = until;
      }
    }
    this.#earliest = earliest;
    return removed;
  }

  /** The live entries, for a snapshot. */
  liveEntries(deadline: number): [string, number][] {
    return [...this.#entries].filter(([, until]) => until > deadline);
  }
}
