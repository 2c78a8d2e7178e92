/**
 * Keeping every process's revocation index in step with the store's log: a follower that loads
 * the log at start, applies what a transport pushes the moment it arrives, and reads the log again
 * after every reconnect and every poll interval, so nothing is ever lost and the staleness bound
 * holds whatever fails.
 *
 * @module
 */
export {
  createHttpRevocationSource,
  type HttpRevocationSource,
  type HttpRevocationSourceOptions,
} from './http-source/index.js';
export { createLogFollower, type LogFollowerOptions } from './log-follower.js';
export {
  openSharedKeyRing,
  type SharedKeyRing,
  type SharedKeyRingOptions,
} from './shared-key-ring.js';
export { loadSnapshotFile, type SavedSnapshot, saveSnapshotFile } from './snapshot-file.js';
export type {
  PushedMessage,
  RevocationFollower,
  RevocationPublisher,
  SyncHealth,
  SyncState,
  SyncTransport,
  SyncTransportKind,
  TransportHandlers,
} from './types.js';
