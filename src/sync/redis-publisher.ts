import type { Cluster, Redis } from 'ioredis';
import { RevocableError } from '../errors/revocable-error.js';
import { parseDuration } from '../lib/duration.js';
import type { RevocationEvent } from '../revocation/events.js';
import { encodeEvents } from './internal/bus-messages.js';
import { checkBusClient, describeError, resolveChannel } from './internal/redis-channel.js';
import type { RevocationPublisher } from './types.js';

/** Options for {@link createRedisPublisher}. */
export interface RedisPublisherOptions {
  /** An ioredis `Redis` or `Cluster` client the application created; never quit by revocable. */
  client: Redis | Cluster;
  /** The channel: the same as the followers' transports (default `<prefix>revocations`). */
  channel?: string;
  /** What the default channel starts with (default `revocable:`). */
  prefix?: string;
  /**
   * The longest message, in characters (default 65536): a ban wave of many sessions goes out as
   * several messages, so no single one holds Redis's output buffers or a follower's parser long.
   */
  maxMessageLength?: number;
  /**
   * How long a publish may take before it is given up (seconds or a string like `500ms`, default
   * 1 second). The events are already in the log: a revoking call must not wait on a bus that is
   * down, and followers read the log within their poll interval anyway.
   */
  timeout?: number | string;
}

/**
 * Creates the publisher a session manager hands what it appends to the log
 * (`createSessionManager({ publisher })`): each call PUBLISHes the events on the channel the
 * followers' {@link createRedisTransport} listens on, in as few messages as `maxMessageLength`
 * allows. It fails fast (`ERR_SYNC_UNAVAILABLE`) while the client is not connected or when Redis
 * does not answer within `timeout`: the manager reports that and goes on, and followers read the
 * events from the log.
 *
 * @example
 * ```ts
 * const publisher = createRedisPublisher({ client, prefix: 'shop:' });
 * const sessions = createSessionManager({ store, keys, index, issuer, audience, refreshSecret, publisher });
 * ```
 */
export function createRedisPublisher(options: RedisPublisherOptions): RevocationPublisher {
  if (typeof options !== 'object' || options === null) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'createRedisPublisher needs options.');
  }
  const client = checkBusClient(options.client, { subscribe: false });
  const channel = resolveChannel(options);
  const maxLength = options.maxMessageLength ?? 65_536;
  if (!Number.isSafeInteger(maxLength) || maxLength < 1024) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      'maxMessageLength must be an integer of at least 1024.',
    );
  }
  const timeout = parseDuration(options.timeout ?? 1, 'timeout');
  if (!(timeout > 0)) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'timeout must be longer than zero.');
  }

  function unavailable(reason: string, cause?: unknown): RevocableError {
    return new RevocableError('ERR_SYNC_UNAVAILABLE', `Revocations not published: ${reason}`, {
      cause,
    });
  }

  async function send(messages: readonly string[]): Promise<void> {
    // All at once: ioredis pipelines them on the connection, in order.
    await Promise.all(messages.map((message) => client.publish(channel, message)));
  }

  return {
    async publish(events: readonly RevocationEvent[]) {
      if (!Array.isArray(events)) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'publish takes an array of events.');
      }
      if (events.length === 0) return;
      const messages = encodeEvents(events, maxLength);
      // Queued commands of a disconnected client would be sent whenever it reconnects, seconds
      // later and after the followers have read the log: refuse instead.
      if (client.status !== 'ready') {
        throw unavailable(`the Redis client is ${client.status}.`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(unavailable(`Redis did not answer within ${timeout} s.`)),
          timeout * 1000,
        );
      });
      try {
        await Promise.race([send(messages), expired]);
      } catch (error) {
        if (error instanceof RevocableError) throw error;
        throw unavailable(describeError(error), error);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
