/**
 * The sealed key ring as a store keeps it: the text `sealKeyRing` made, and the revision it was
 * saved at (1 for the first save, one more for each save after it).
 */
export interface StoredKeyRing {
  readonly revision: number;
  readonly sealed: string;
}

/**
 * Where the processes of a cluster keep their one key ring: a single sealed document (private
 * keys encrypted by `sealKeyRing`, so the store never sees them in the clear) with a revision
 * number that every write moves on by one. Deliberately narrow: the store never reads the ring,
 * and every rule about keys lives in `openSharedKeyRing`.
 *
 * Implementations: `createMemoryKeyRingStore` (`revocable/stores`), `createSqliteKeyRingStore`
 * (`revocable/sqlite`), `createPostgresKeyRingStore` (`revocable/postgres`),
 * `createRedisKeyRingStore` (`revocable/redis`). They all pass the same contract tests.
 *
 * @example
 * ```ts
 * const current = await keyRingStore.load();
 * const won = await keyRingStore.save(current?.revision ?? 0, sealKeyRing(ring, secret, {
 *   revision: (current?.revision ?? 0) + 1,
 * }));
 * if (!won) {
 *   // another process saved first: load again, apply the change again, save again
 * }
 * ```
 */
export interface KeyRingStore {
  /** The sealed ring and its revision, or null when none was ever saved. */
  load(): Promise<StoredKeyRing | null>;
  /**
   * The current revision alone (0 when none was saved): a cheap read for a process that polls
   * for changes and loads the ring only when this moved.
   */
  revision(): Promise<number>;
  /**
   * Compare-and-set: writes `sealed` at revision `expectedRevision + 1` if the stored revision is
   * `expectedRevision` (0: nothing stored yet), atomically, and returns true; returns false and
   * writes nothing otherwise. Of several saves with the same expected revision, exactly one wins
   * and the others must load the new revision, redo their change and try again.
   */
  save(expectedRevision: number, sealed: string): Promise<boolean>;
}
