import { RevocableError } from '../errors/revocable-error.js';
import type { RevocationEvent } from '../revocation/events.js';
import type { PostgresPool } from '../stores/postgres/driver-types.js';
import { channelName } from './postgres-channel.js';
import { DEFAULT_MAX_NOTIFICATIONS, encodeEvents, POKE_PAYLOAD } from './postgres-messages.js';
import type { RevocationPublisher } from './types.js';

/** Options for {@link createPostgresPublisher}. */
export interface PostgresPublisherOptions {
  /** A `pg` Pool the application created (the store's is fine); never ended by the publisher. */
  pool: PostgresPool;
  /** The channel (default `revocable_revocations`): the one the transports listen on. */
  channel?: string;
  /**
   * The most NOTIFY payloads (each under 8,000 bytes, about 60 to 80 typical events) one
   * `publish` sends; a larger batch is sent as one poke, and every follower reads it from the log
   * (default 16: about 1,000 events, one page of a follower's log read).
   */
  maxNotifications?: number;
}

// NOTIFY sends its payloads at the commit of its transaction, all of them or none, in order. One
// statement is one transaction, so a batch that takes several payloads still costs one round trip
// and reaches the listeners whole.
const NOTIFY_ALL = 'SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS batch(payload)';

/**
 * Creates the publisher that tells every {@link createPostgresTransport} on the channel of the
 * events a session manager appended (its `publisher` option). Events are packed into NOTIFY
 * payloads under PostgreSQL's 8,000-byte limit, counted in UTF-8 bytes, and all of a batch's
 * payloads go out in one statement.
 *
 * Where the line is drawn: a batch that would take more than `maxNotifications` payloads (a ban
 * wave of 100,000 sessions is 100,000 events, about 12 MB of JSON) is not pushed. It would go
 * through PostgreSQL's one notification queue, shared by every channel of the server, and through
 * every listening connection, ahead of anything published after it; each follower would parse all
 * of it while reading the same events from the log costs it about as much. So it sends one poke,
 * and each follower reads the batch from the log in pages at once. Up to the line, pushing is
 * faster than a read of the log (one message, no query); past it, a read of the log is no slower
 * than the push and spares the bus.
 *
 * @example
 * ```ts
 * import { createPostgresPublisher } from 'revocable/postgres';
 *
 * const sessions = createSessionManager({ store, keys, index, issuer, audience, refreshSecret,
 *   publisher: createPostgresPublisher({ pool }) });
 * ```
 */
export function createPostgresPublisher(options: PostgresPublisherOptions): RevocationPublisher {
  if (typeof options !== 'object' || options === null) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'createPostgresPublisher needs options.');
  }
  const { pool } = options;
  if (typeof pool?.query !== 'function') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'pool must be a pg Pool.');
  }
  const channel = channelName(options.channel);
  const maxNotifications = options.maxNotifications ?? DEFAULT_MAX_NOTIFICATIONS;
  if (!Number.isSafeInteger(maxNotifications) || maxNotifications < 1) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      'maxNotifications must be a positive integer.',
    );
  }
  return {
    async publish(events: readonly RevocationEvent[]) {
      if (!Array.isArray(events)) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'publish takes an array of events.');
      }
      if (events.length === 0) return;
      const payloads = encodeEvents(events, maxNotifications) ?? [POKE_PAYLOAD];
      await pool.query(NOTIFY_ALL, [channel, payloads]);
    },
  };
}
