import { RevocableError } from '../errors/revocable-error.js';

/** The channel when none is given. */
export const DEFAULT_CHANNEL = 'revocable_revocations';

// A channel is an SQL identifier: LISTEN cannot take it as a parameter, so it is pasted into the
// statement, and only lowercase letters, digits and underscores pass. Lowercase, because LISTEN
// folds an unquoted name to lowercase while pg_notify takes its argument as it is: with these
// characters the two agree quoted or not. 63 bytes is PostgreSQL's identifier length.
const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a channel name (default {@link DEFAULT_CHANNEL}). */
export function channelName(channel: unknown): string {
  if (channel === undefined) return DEFAULT_CHANNEL;
  if (typeof channel !== 'string' || !CHANNEL_PATTERN.test(channel)) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      'channel must be 1 to 63 lowercase letters, digits and underscores, not starting with a digit.',
    );
  }
  return channel;
}
