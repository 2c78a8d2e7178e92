import type { Cluster, Redis } from 'ioredis';
import { RevocableError } from '../../errors/revocable-error.js';
import { hasControlCharacter } from '../../lib/text.js';

/** The default channel prefix: the Redis store's default key prefix, so the two go together. */
export const DEFAULT_CHANNEL_PREFIX = 'revocable:';
/** What follows the prefix in the default channel name. */
export const CHANNEL_NAME = 'revocations';

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function checkName(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw invalid(`${name} must be a non-empty string of at most 256 characters.`);
  }
  if (hasControlCharacter(value)) throw invalid(`${name} must not contain control characters.`);
  return value;
}

/** The channel of a transport or publisher: `channel`, or `prefix` + `revocations`. */
export function resolveChannel(options: { channel?: unknown; prefix?: unknown }): string {
  if (options.channel !== undefined && options.prefix !== undefined) {
    throw invalid('Give channel or prefix, not both.');
  }
  if (options.channel !== undefined) return checkName(options.channel, 'channel');
  const prefix =
    options.prefix === undefined ? DEFAULT_CHANNEL_PREFIX : checkName(options.prefix, 'prefix');
  return prefix + CHANNEL_NAME;
}

/**
 * Refuses what is not an ioredis client. A subscriber must be a `Redis` (standalone or Sentinel):
 * a Cluster client's subscriptions move between nodes on its own terms, where the follower needs
 * to know when it is subscribed; a client connected to one node hears every node's PUBLISH.
 */
export function checkBusClient<Client extends Redis | Cluster>(
  client: Client,
  { subscribe }: { subscribe: boolean },
): Client {
  if (typeof client?.publish !== 'function' || typeof client.duplicate !== 'function') {
    throw invalid('client must be an ioredis client.');
  }
  if (subscribe && client.isCluster) {
    throw invalid(
      'The Redis transport needs a Redis client, not a Cluster: connect one to any node of the cluster (a PUBLISH reaches every node).',
    );
  }
  return client;
}

/** An error's name and message, for reports (never a secret: ioredis errors carry none). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
