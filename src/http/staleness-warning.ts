import { emitRevocableWarning } from '../lib/warning.js';

const warned = new WeakSet<FollowedIndex>();

/** What the warning needs of an index: whether anything has marked it fresh. */
interface FollowedIndex {
  readonly freshAt?: number | null;
}

/**
 * Warns, once per index, when a guard or an adapter is made without `maxStaleness` for an index
 * that has a source: something (a log follower, the auth server's feed) has marked it fresh. Without a bound the index never counts as stale, so a bus or feed gone silent would let
 * every revocation made since go unseen, with no error and no 503. An index with no source (one
 * process that revokes and verifies itself) is never marked fresh and stays silent. Checked when
 * made, not per request: the hot path pays nothing, and a follower started after the guard is
 * not seen (docs/http.md says to start it first). @internal
 */
export function warnIfUnboundedStaleness(
  index: FollowedIndex,
  maxStaleness: unknown,
  caller: string,
): void {
  if (maxStaleness !== undefined || index.freshAt === undefined || index.freshAt === null) return;
  // Once per index: an application that makes a guard per route would otherwise repeat it.
  if (warned.has(index)) return;
  warned.add(index);
  emitRevocableWarning(
    'REVOCABLE_UNBOUNDED_STALENESS',
    `${caller} was given no maxStaleness, but its revocation index follows a source (it has ` +
      'been marked fresh): if that source goes silent, revocations made since are never seen and ' +
      'nothing fails. Give maxStaleness (connectToAuthServer uses 5 seconds).',
  );
}
