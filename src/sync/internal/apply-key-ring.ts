import type { KeyRing } from '../../jwt/key-ring.js';
import type { JwtKey } from '../../jwt/keys.js';

/** The ring's active key, or undefined when it has none (without the throw of `ring.active`). */
export function activeKeyOf(ring: KeyRing): JwtKey | undefined {
  return ring.keys().find((key) => key.state === 'active');
}

/**
 * Makes `live` hold what `source` holds, in place, because signers and verifiers keep a reference
 * to `live`: keys it lacks are added, states that differ are set, the active key becomes the
 * source's active key. Two rules keep it one-way towards safety: a key retired in `live` stays
 * retired whatever `source` says (a retirement is the emergency lever, and a stale or replayed
 * ring must not undo it), and a key `source` no longer holds is retired in `live`, never deleted
 * (its tokens are then refused as retired rather than as unknown, and nothing that looked it up
 * before finds it gone). Internal to the sync part.
 */
export function applyKeyRing(live: KeyRing, source: KeyRing): void {
  const active = activeKeyOf(source);
  for (const key of source.keys()) {
    if (key === active) continue;
    const local = live.get(key.kid);
    if (local === undefined) live.add(key);
    else if (local.state !== 'retired' && local.state !== key.state)
      live.setState(key.kid, key.state);
  }
  for (const local of live.keys()) {
    if (local.state !== 'retired' && source.get(local.kid) === undefined) live.retire(local.kid);
  }
  // Last, so that the new signer takes over from whichever key was still active here (adding or
  // activating it demotes that one to verify-only).
  if (active !== undefined) {
    const local = live.get(active.kid);
    if (local === undefined) live.add(active);
    else if (local.state === 'verify-only') live.setState(active.kid, 'active');
  }
}
