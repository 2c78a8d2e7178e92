/**
 * The revocation feed: the store's revocation log served over HTTP, so that a resource server in
 * another process or language keeps its own revocation index with HTTP alone.
 *
 * The wire format (what `GET /revocations` and `GET /revocations/stream` send):
 *
 * - `GET /revocations` answers `{"position": P, "events": [event, ...]}`: every live event of the
 *   log (each exactly as the log stores it: `{"v":1,"id","kind","target","at","until"}`, plus
 *   `gen` on a subject revocation), oldest first, and the log position P they reach.
 * - `GET /revocations/stream?after=P` is a stream of server-sent events
 *   (`content-type: text/event-stream; charset=utf-8`). It starts with `retry: 1000`, then
 *   delivers every event of the log past P, in order, exactly once, then every new one:
 *   `id: <position>` / `event: revocation` / `data: <event JSON>`. Every poll interval (1 s by
 *   default) it sends `id: <position>` / `event: heartbeat` / `data: {"position":P,"freshAt":T}`:
 *   every event up to P has been sent, and every event committed before T (epoch seconds, the
 *   server's clock) is at or below P; T stops moving while the server cannot read its log.
 * - The position resumed after is the `Last-Event-ID` header, else `after`, else 0: the start of
 *   the log (every event it still holds: the live ones, and expired ones not yet pruned, which
 *   change nothing). Not a non-negative integer in digits: HTTP 400.
 * - A position past the head of the log (another deployment, or a log that was reset) gets
 *   `id:` (empty) / `event: reset` / `data: {"position":H}`, and the stream ends: the client
 *   loads the snapshot again and streams after its position.
 * - The server ends a stream when the client reads too slowly or the server shuts down; the
 *   client reconnects with `Last-Event-ID`.
 *
 * @module
 */

export { resumePosition } from './resume-position.js';
export { createRevocationFeed } from './revocation-feed.js';
export {
  REVOCATION_STREAM_HEADERS,
  type RevocationStream,
  type RevocationStreamOptions,
  writeRevocationStream,
} from './revocation-stream.js';
export type {
  FeedHeartbeat,
  FeedScheduler,
  FeedSnapshot,
  FeedStatus,
  FeedSubscriber,
  RevocationFeed,
  RevocationFeedOptions,
} from './types.js';
