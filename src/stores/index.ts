/**
 * The storage interface of revocable and its in-process implementation. Driver-backed stores
 * have their own subpaths (`revocable/sqlite`, `revocable/postgres`, `revocable/redis`) so that the
 * root import pulls in no driver.
 *
 * @module
 */

export type { KeyRingStore, StoredKeyRing } from './key-ring-store.js';
export { createMemoryKeyRingStore } from './memory-key-ring-store.js';
export { createMemoryStore } from './memory-store.js';
export type {
  CreateOutcome,
  RefreshRotation,
  RotateOutcome,
  SessionRecord,
  Store,
  StoredEvent,
  StoredSession,
  SubjectState,
} from './types.js';
export { REVOKE_EVERYTHING_REASON } from './types.js';
