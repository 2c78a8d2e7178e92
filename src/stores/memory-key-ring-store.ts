import { assertKeyRingSave } from './internal/key-ring-input.js';
import type { KeyRingStore, StoredKeyRing } from './key-ring-store.js';

/**
 * A key ring store in this process's memory: for tests, and for several shared rings of one
 * process that must agree (each `openSharedKeyRing` on it sees the others' rotations). It is
 * gone when the process ends, so it shares nothing across processes.
 *
 * @example
 * ```ts
 * const store = createMemoryKeyRingStore();
 * const shared = await openSharedKeyRing({ store, secret });
 * ```
 */
export function createMemoryKeyRingStore(): KeyRingStore {
  let current: StoredKeyRing | null = null;
  return {
    async load() {
      return current;
    },
    async revision() {
      return current?.revision ?? 0;
    },
    async save(expectedRevision, sealed) {
      assertKeyRingSave(expectedRevision, sealed);
      // No await between the check and the write: nothing else runs in between.
      if ((current?.revision ?? 0) !== expectedRevision) return false;
      current = { revision: expectedRevision + 1, sealed };
      return true;
    },
  };
}
