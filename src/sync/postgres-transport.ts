import type { Client, Notification, Pool, PoolClient } from 'pg';
import { RevocableError } from '../errors/revocable-error.js';
import { loadDriver } from '../stores/internal/driver-errors.js';
import type { PostgresPool } from '../stores/postgres/driver-types.js';
import { channelName } from './postgres-channel.js';
import { HEARTBEAT_PAYLOAD, parseMessage } from './postgres-messages.js';
import type { SyncTransport, TransportHandlers } from './types.js';

/** Options for {@link createPostgresTransport}: a pool or a connection string. */
export interface PostgresTransportOptions {
  /**
   * A `pg` Pool the application created: the transport checks one connection out of it and keeps
   * it for as long as it listens (one slot of the pool's `max`). Never ended by the transport.
   */
  pool?: PostgresPool;
  /**
   * Or a connection string: the transport opens a connection of its own with it (loading `pg` at
   * the first `open`). Give it an `application_name` to find the connection in
   * `pg_stat_activity`.
   */
  connectionString?: string;
  /** The channel (default `revocable_revocations`); deployments sharing a database use their own. */
  channel?: string;
  /**
   * Milliseconds a heartbeat may go unanswered before the connection counts as lost and is
   * replaced (default 5000): a connection cut without a word (a dead host, a dropped route) is
   * otherwise noticed only by TCP, minutes later.
   */
  heartbeatTimeoutMs?: number;
  /** Receives malformed messages and failed connection attempts (default: a process warning). */
  onError?: (error: unknown) => void;
}

type Connection = Client | PoolClient;

interface Link {
  readonly connection: Connection;
  readonly lost: boolean;
  /** The connection failed: give it back destroyed and, if it was the current one, reconnect. */
  lose(error: unknown): void;
  /** Give it back destroyed, without reconnecting. */
  discard(error: unknown): void;
  /** Give it back for good (on close): a pooled connection without its LISTEN. */
  giveBack(): Promise<void>;
}

// Reconnection waits 50 ms, then twice as long each time up to 5 s, each wait drawn at random
// from its upper half, so that processes cut off together do not return in lockstep.
const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 5000;

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function lostError(message: string, cause?: unknown): RevocableError {
  return new RevocableError(
    'ERR_SYNC_CONNECTION',
    `PostgreSQL revocation channel: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Creates the PostgreSQL push channel for `createLogFollower`: one connection that `LISTEN`s on
 * the channel and hands the follower every message published there (by
 * {@link createPostgresPublisher} in any process, this one included). When the connection drops
 * (the server restarted, `pg_terminate_backend`, a heartbeat unanswered) it tells the follower,
 * reconnects with backoff, and after every successful `LISTEN` tells the follower again, which
 * then reads the log for whatever was published in between. A payload that is not a valid message
 * is reported and ignored. Heartbeats go through the listening connection itself (`pg_notify`), so
 * one that comes back proves the whole path. Needs `pg` 8 only when used.
 *
 * @example
 * ```ts
 * import { createPostgresTransport } from 'revocable/postgres';
 * import { createLogFollower } from 'revocable/sync';
 *
 * const transport = createPostgresTransport({ pool });
 * const follower = createLogFollower({ store, index, transport, maxStaleness: 5 });
 * await follower.start();
 * ```
 */
export function createPostgresTransport(options: PostgresTransportOptions): SyncTransport {
  if (typeof options !== 'object' || options === null) {
    throw invalid('createPostgresTransport needs options.');
  }
  const { pool, connectionString } = options;
  if ((pool === undefined) === (connectionString === undefined)) {
    throw invalid('Give createPostgresTransport either pool or connectionString.');
  }
  if (pool !== undefined && typeof pool?.connect !== 'function') {
    throw invalid('pool must be a pg Pool.');
  }
  if (
    connectionString !== undefined &&
    (typeof connectionString !== 'string' || !connectionString)
  ) {
    throw invalid('connectionString must be a non-empty string.');
  }
  const channel = channelName(options.channel);
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(heartbeatTimeoutMs) || heartbeatTimeoutMs <= 0) {
    throw invalid('heartbeatTimeoutMs must be a positive integer.');
  }
  const report =
    options.onError ??
    ((error: unknown) =>
      process.emitWarning(
        `revocable: PostgreSQL transport: ${describe(error)}`,
        'RevocableWarning',
      ));

  let handlers: TransportHandlers | null = null;
  let current: Link | null = null;
  let closed = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let connecting: Promise<void> | null = null;

  // The transport's own onError, when given, wins; otherwise the follower's (its health shows the
  // last error), and a process warning without either.
  function safeReport(error: unknown): void {
    try {
      if (options.onError === undefined && handlers?.error !== undefined) handlers.error(error);
      else report(error);
    } catch {
      // A reporter that throws must not stop the transport.
    }
  }

  async function newConnection(): Promise<{ connection: Connection; own: boolean }> {
    // What the public option describes structurally is, inside, a pg Pool.
    if (pool !== undefined) {
      return { connection: await (pool as unknown as Pool).connect(), own: false };
    }
    // Loaded here, not at the top: the module must load without pg for those who never use it.
    const pg = loadDriver<{ Client: typeof Client }>({
      name: 'pg',
      subpath: 'revocable/postgres',
    });
    // keepAlive: a connection whose peer vanished is noticed by TCP too, not only by heartbeats.
    const client = new pg.Client({ connectionString, keepAlive: true });
    try {
      await client.connect();
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    return { connection: client, own: true };
  }

  function onNotification(notification: Notification): void {
    if (closed || notification.channel !== channel) return;
    let message: ReturnType<typeof parseMessage>;
    try {
      message = parseMessage(notification.payload);
    } catch (error) {
      safeReport(error);
      return;
    }
    handlers?.message(message);
  }

  // One connection and what the transport attached to it; given back exactly once.
  function link(connection: Connection, own: boolean): Link {
    let done = false;
    const detach = () => {
      connection.removeListener('notification', onNotification);
      connection.removeListener('error', lose);
      connection.removeListener('end', ended);
      // Errors of a connection being given back go nowhere: an unheard error event would end
      // the process.
      connection.on('error', () => {});
    };
    // A dead or unwanted connection: a pooled one is destroyed (released with an error), never
    // returned to the pool with its LISTEN still on.
    const discard = (error: unknown) => {
      if (done) return;
      done = true;
      detach();
      if (own) (connection as Client).end().catch(() => {});
      else (connection as PoolClient).release(error instanceof Error ? error : true);
    };
    function lose(error: unknown): void {
      if (done) return;
      discard(error);
      if (current?.connection !== connection) return;
      current = null;
      if (closed) return;
      handlers?.disconnected(lostError('the connection was lost.', error));
      scheduleRetry();
    }
    function ended(): void {
      lose(new Error('the connection ended'));
    }
    connection.on('error', lose);
    connection.on('end', ended);
    connection.on('notification', onNotification);
    return {
      connection,
      lose,
      discard,
      get lost() {
        return done;
      },
      async giveBack() {
        if (done) return;
        if (own) {
          discard(null);
          return;
        }
        // A pooled connection goes back clean, without its LISTEN; one that cannot is destroyed.
        try {
          await connection.query('UNLISTEN *');
        } catch (error) {
          discard(error);
          return;
        }
        if (done) return;
        done = true;
        detach();
        (connection as PoolClient).release();
      },
    };
  }

  function scheduleRetry(): void {
    if (closed || retryTimer !== null) return;
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
    attempt++;
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect().catch(() => {
        // Reported and rescheduled by connect.
      });
    }, delay);
    // A transport never keeps a process alive on its own.
    retryTimer.unref();
  }

  function connect(): Promise<void> {
    if (connecting !== null) return connecting;
    connecting = (async () => {
      let opened: Link | null = null;
      try {
        const { connection, own } = await newConnection();
        opened = link(connection, own);
        // Quoted: the channel was checked to be a lowercase identifier, so this is the same name
        // pg_notify is given.
        await connection.query(`LISTEN "${channel}"`);
        if (opened.lost) throw lostError('the connection was lost before LISTEN completed.');
        if (closed) {
          await opened.giveBack();
          return;
        }
        current = opened;
        attempt = 0;
        handlers?.connected();
      } catch (error) {
        opened?.discard(error);
        const failure =
          error instanceof RevocableError ? error : lostError('could not listen.', error);
        if (!closed) {
          safeReport(failure);
          scheduleRetry();
        }
        throw failure;
      } finally {
        connecting = null;
      }
    })();
    return connecting;
  }

  return {
    kind: 'postgres',

    async open(given) {
      if (handlers !== null || closed) throw invalid('A transport opens once.');
      if (typeof given?.message !== 'function') throw invalid('open needs TransportHandlers.');
      handlers = given;
      await connect();
    },

    async heartbeat() {
      const held = current;
      // Nothing to prove while disconnected: the loss was reported and a reconnection is on its way.
      if (held === null || closed) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(lostError(`a heartbeat went unanswered for ${heartbeatTimeoutMs} ms.`)),
          heartbeatTimeoutMs,
        );
      });
      try {
        await Promise.race([
          held.connection.query('SELECT pg_notify($1, $2)', [channel, HEARTBEAT_PAYLOAD]),
          timeout,
        ]);
      } catch (error) {
        // The connection's own error and end events handle a loss they see; this covers one they
        // do not (no answer at all): the connection is dropped and replaced.
        held.lose(error);
      } finally {
        clearTimeout(timer);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      await connecting?.catch(() => {});
      const held = current;
      current = null;
      handlers = null;
      await held?.giveBack();
    },
  };
}
