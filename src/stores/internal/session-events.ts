import type { RevocationEvent } from '../../revocation/events.js';

/**
 * For each event given to `revokeSessions`, the listed session whose end it records, or null: a
 * session event whose target is one of `sids`. Such an event is appended only when the call
 * revoked that session. A session already ended has its event in the log: appending another for
 * each repeated or concurrent logout would let one account grow every process's index copy at
 * will, while adding nothing the log does not already say. Every other event is appended as given.
 */
export function listedSessionOf(
  events: readonly RevocationEvent[],
  sids: readonly string[],
): (string | null)[] {
  const listed = new Set(sids);
  return events.map((event) =>
    event.kind === 'session' && listed.has(event.target) ? event.target : null,
  );
}

/** The events `revokeSessions` appends once it knows which sessions it revoked (see above). */
export function eventsToAppend(
  events: readonly RevocationEvent[],
  sids: readonly string[],
  revoked: readonly string[],
): RevocationEvent[] {
  const ended = new Set(revoked);
  const owners = listedSessionOf(events, sids);
  return events.filter((_event, i) => {
    const owner = owners[i];
    return owner === null || owner === undefined || ended.has(owner);
  });
}
