import type { Redis } from 'ioredis';
import { RevocableError } from '../errors/revocable-error.js';
import { decodeMessage, HEARTBEAT_TEXT } from './internal/bus-messages.js';
import { checkBusClient, describeError, resolveChannel } from './internal/redis-channel.js';
import type { PushedMessage, SyncTransport, TransportHandlers } from './types.js';

/** Options for {@link createRedisTransport}. */
export interface RedisTransportOptions {
  /**
   * An ioredis `Redis` client (standalone or Sentinel) the application created. The transport
   * opens its own subscriber connection with `duplicate()`, and publishes heartbeats through this
   * one; it never quits it. On a Redis Cluster, give a `Redis` client connected to any one node:
   * Redis forwards a PUBLISH to every node of the cluster.
   */
  client: Redis;
  /** The channel (default `<prefix>revocations`). Every process of a deployment uses the same. */
  channel?: string;
  /**
   * What the default channel starts with (default `revocable:`, as the Redis store's keys):
   * deployments sharing a Redis stay apart by giving each its own prefix.
   */
  prefix?: string;
}

// Heartbeats this process sent that none came back for (its own or any other message) before the
// subscriber connection is judged dead and reopened. A connection can stay open for TCP while the
// server no longer delivers on it (a half-open socket after a network fault, a server that killed
// the client): only a message that comes back proves it works.
const UNANSWERED_LIMIT = 3;

// Reconnection delays of the subscriber connection, in milliseconds: quick at first (a restarted
// server is back in well under a second), then at most one attempt a second. It never gives up:
// the application's client may be configured to, but the follower needs its channel back.
function reconnectDelay(attempt: number): number {
  return Math.min(25 * 2 ** Math.min(attempt, 6), 1000);
}

/**
 * Creates the Redis push channel of a follower (`createLogFollower({ transport })`): a subscriber
 * connection of its own (a `duplicate()` of `client`) on one channel, over which every process
 * publishes the events it appends (see {@link createRedisPublisher}) and heartbeats.
 *
 * It tells the follower `connected()` each time the subscription is confirmed by the server (at
 * open and after every reconnection), not when the socket connects: only from then on is nothing
 * published missed, so the follower's catch-up read of the log that follows closes the gap. Every
 * message is parsed strictly; a malformed one is reported (`ERR_SYNC_MESSAGE_INVALID`) and turned
 * into a read of the log, never applied in part. Messages carry no log position: the follower
 * learns positions, and freshness, only from the log.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisPublisher, createRedisStore, createRedisTransport } from 'revocable/redis';
 * import { createLogFollower } from 'revocable/sync';
 * const client = new Redis(process.env.REDIS_URL);
 * const store = createRedisStore({ client });
 * const follower = createLogFollower({ store, index, transport: createRedisTransport({ client }) });
 * const sessions = createSessionManager({ store, index, publisher: createRedisPublisher({ client }), ... });
 * await follower.start();
 * ```
 */
export function createRedisTransport(options: RedisTransportOptions): SyncTransport {
  if (typeof options !== 'object' || options === null) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'createRedisTransport needs options.');
  }
  const client = checkBusClient(options.client, { subscribe: true });
  const channel = resolveChannel(options);

  let handlers: TransportHandlers | null = null;
  let subscriber: Redis | null = null;
  let closed = false;
  let subscribed = false;
  // The first socket error of an outage, handed to disconnected(); later ones (one per retry)
  // would only repeat it.
  let outageError: unknown = null;
  let unanswered = 0;

  function report(error: unknown): void {
    if (handlers?.error !== undefined) {
      handlers.error(error);
      return;
    }
    process.emitWarning(
      `revocable: Redis revocation transport: ${describeError(error)}`,
      'RevocableWarning',
    );
  }

  function onMessage(from: string, text: string): void {
    if (closed || from !== channel || handlers === null) return;
    unanswered = 0;
    let message: PushedMessage;
    try {
      message = decodeMessage(text);
    } catch (error) {
      report(error);
      // It may be an event this version cannot read: the log holds it in a form it can.
      message = { type: 'poke' };
    }
    handlers.message(message);
  }

  return {
    kind: 'redis',

    async open(given) {
      if (handlers !== null || closed) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'A Redis transport opens once.');
      }
      handlers = given;
      // autoResubscribe is off so that this code subscribes itself after every reconnection and
      // knows when the server confirmed it; ioredis's own resubscription is not awaited by anyone.
      // Commands are never queued or resent while disconnected: the 'ready' handler subscribes
      // afresh each time.
      const sub = client.duplicate({
        lazyConnect: true,
        autoResubscribe: false,
        autoResendUnfulfilledCommands: false,
        enableOfflineQueue: false,
        retryStrategy: reconnectDelay,
        connectionName: 'revocable-follower',
      });
      subscriber = sub;
      let first: { resolve(): void; reject(error: unknown): void } | null = null;
      const firstSubscription = new Promise<void>((resolve, reject) => {
        first = { resolve, reject };
      });

      sub.on('message', onMessage);
      sub.on('error', (error: unknown) => {
        if (closed) return;
        if (subscribed) {
          outageError ??= error;
          return;
        }
        // Not connected: report the first error of this outage only, not one per retry.
        if (outageError === null) {
          outageError = error;
          report(error);
        }
      });
      sub.on('close', () => {
        if (closed || !subscribed) return;
        subscribed = false;
        const cause = outageError;
        outageError = null;
        handlers?.disconnected(
          new RevocableError(
            'ERR_SYNC_UNAVAILABLE',
            `The Redis subscriber connection closed${cause === null ? '' : `: ${describeError(cause)}`}.`,
            { cause },
          ),
        );
        // Reported through disconnected(); errors of the retries that follow are not repeated.
        outageError = cause ?? new Error('connection closed');
      });
      sub.on('ready', () => {
        sub.subscribe(channel).then(
          () => {
            if (closed) return;
            subscribed = true;
            outageError = null;
            unanswered = 0;
            first?.resolve();
            first = null;
            handlers?.connected();
          },
          (error: unknown) => {
            // A refused SUBSCRIBE (an ACL without the channel) or a connection lost meanwhile:
            // the next 'ready' tries again, and the follower polls the log in the meantime.
            if (closed) return;
            report(error);
            first?.reject(error);
            first = null;
          },
        );
      });
      try {
        await sub.connect();
      } catch (error) {
        // ioredis goes on reconnecting by itself; the follower polls until it succeeds.
        throw new RevocableError(
          'ERR_SYNC_UNAVAILABLE',
          `Could not connect the Redis subscriber: ${describeError(error)}`,
          { cause: error },
        );
      }
      await firstSubscription;
    },

    async heartbeat() {
      if (closed || subscriber === null || !subscribed) return;
      if (unanswered >= UNANSWERED_LIMIT) {
        unanswered = 0;
        report(
          new RevocableError(
            'ERR_SYNC_UNAVAILABLE',
            `No message came back on the Redis subscriber connection after ${UNANSWERED_LIMIT} heartbeats: reconnecting it.`,
          ),
        );
        // The close that follows calls disconnected(), and the next 'ready' subscribes again.
        subscriber.disconnect(true);
        return;
      }
      unanswered++;
      // Through the application's client: the subscriber connection cannot publish, and a
      // heartbeat that crosses both connections proves the whole path.
      await client.publish(channel, HEARTBEAT_TEXT);
    },

    async close() {
      if (closed) return;
      closed = true;
      subscribed = false;
      const sub = subscriber;
      subscriber = null;
      handlers = null;
      // Only the connection this transport made; the application's client stays open.
      sub?.disconnect();
    },
  };
}
