import type { KeyRing } from '../../jwt/key-ring.js';
import type { RevocationIndex } from '../../revocation/types.js';
import type { SyncHealth } from '../types.js';

/** Options for `createHttpRevocationSource`. Durations are seconds (fractions allowed) or `5m`. */
export interface HttpRevocationSourceOptions {
  /**
   * The auth server's base URL (`https://auth.example`, or with a path prefix). No credentials,
   * query or fragment: give credentials in `headers`.
   */
  url: string | URL;
  /**
   * Take a plain `http:` URL to another machine (default false: only `https:`, or `http:` to
   * `localhost`, `127.x.x.x`, `[::1]` or `0.0.0.0`). Over plain http anyone on the network path
   * can replace the JWKS, and so sign tokens this server accepts, or hold back revocations; set
   * it only on a network you trust, like a docker-compose network between the auth server and
   * this one.
   */
  allowInsecureHttp?: boolean;
  /** The index kept in step with the server's revocation log. */
  index: RevocationIndex;
  /**
   * The ring the source fills from the server's JWKS and keeps current; build the verifier on it
   * (`source.keys`). Default: a new empty ring. It mirrors the JWKS: a key the JWKS has not
   * listed for `droppedKeyGrace` is retired in it, and a key revoked at the auth server is
   * retired at once by its key event.
   */
  keys?: KeyRing;
  /** The fetch to use (default: the global one). Tests and proxy set-ups inject their own. */
  fetch?: typeof globalThis.fetch;
  /**
   * Headers sent with every request, for a feed behind a proxy that wants them (an
   * `Authorization` header, say). They never appear in an error or in `health()`.
   */
  headers?: Readonly<Record<string, string>>;
  /**
   * The server's poll interval, which paces its heartbeats (default 1 second, the server's own
   * default). Only used for the default of `heartbeatTimeout`.
   */
  pollInterval?: number | string;
  /**
   * A stream that sends nothing at all, not even a heartbeat, for this long is taken for dead (a
   * half-open connection, a proxy that buffers) and reopened. Default: three poll intervals, and
   * at least 5 seconds.
   */
  heartbeatTimeout?: number | string;
  /** The first wait before reconnecting a stream that dropped (default 1 second). */
  reconnectDelay?: number | string;
  /**
   * The wait doubles on every failure in a row, up to this (default 5 seconds). A server that
   * refuses with 503 or 429 and a `Retry-After` (the auth server past its `--max-streams`) is
   * given the wait it asks, as long as it is not more than this: a broken server must not park
   * the source for longer. The same holds for the snapshot and the JWKS.
   */
  maxReconnectDelay?: number | string;
  /**
   * How often the JWKS is fetched whatever happens (default 5 minutes). It is also fetched after
   * every key revocation the index applies and on `refreshKeys()`.
   */
  keyRefreshInterval?: number | string;
  /**
   * How long a key the JWKS stops listing is still held before it is retired here (default 30
   * seconds, `0` at once). Several auth server processes behind one URL each reload a rotated
   * ring at their own poll, so a read that lands on one a poll behind may lack a key minutes
   * old; give at least the longest delay between a rotation and the last process's reload. A
   * key revoked at the auth server is retired at once whatever this says, by its key event.
   */
  droppedKeyGrace?: number | string;
  /**
   * Past this many seconds since the server's last statement of freshness `health()` says
   * `stale` (default 5). Give the verifiers the same `maxStaleness`.
   */
  maxStaleness?: number | string;
  /** How long a request for the snapshot or the JWKS may take (default 10 seconds). */
  requestTimeout?: number | string;
  /**
   * How long `start()` waits for the first heartbeat once it has the snapshot and the JWKS,
   * retrying the stream meanwhile (default 15 seconds); past it, `start()` rejects and stops.
   */
  startTimeout?: number | string;
  /** The longest message of the stream, and line, in characters (default 64 KiB). */
  maxMessageLength?: number;
  /**
   * Receives what goes wrong and is recovered from: a dropped stream, a malformed message, a
   * failed JWKS fetch (default: a process warning). Never given a token or a header.
   */
  onError?: (error: unknown) => void;
}

/**
 * A resource server's view of an auth server it knows only by URL: its revocation index, kept in
 * step over HTTP (`GET /revocations` and the SSE stream), and its key ring, kept in step with
 * `/.well-known/jwks.json`. Made by `createHttpRevocationSource`.
 */
export interface HttpRevocationSource {
  /** The ring the verifiers are built on; the same object for the source's whole life. */
  readonly keys: KeyRing;
  /** The log position up to which every event is applied (the last id heard). */
  readonly position: number;
  /**
   * Fetches the JWKS and the snapshot, opens the stream, and resolves at the first heartbeat:
   * the index is then as fresh as the server says it is. Rejects, and stops, when the JWKS or
   * the snapshot cannot be fetched, or no heartbeat comes within `startTimeout`.
   */
  start(): Promise<void>;
  /** Closes the stream and every timer; the index and the ring keep what they hold. Idempotent. */
  stop(): Promise<void>;
  /**
   * Fetches the JWKS again, for a token whose kid the ring lacks: at most one fetch a second,
   * shared by every caller meanwhile. Resolves with whether the ring changed (false once
   * stopped); rejects when the fetch fails.
   */
  refreshKeys(): Promise<boolean>;
  /** The current health, as plain data. */
  health(): SyncHealth;
}
