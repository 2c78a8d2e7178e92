import { KeyRing } from '../../jwt/key-ring.js';
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
 * ring must not undo it), and a key `source` no longer holds is retired in `live` (its tokens are
 * then refused as retired rather than as unknown). The retirements come first, so that nothing
 * after them (a ring full) can keep a dropped key verifying.
 *
 * A ring holds at most `KeyRing.capacity` keys. When the new ones would not fit, retired keys the
 * source no longer holds are forgotten, the oldest first, and their kids put in `forgotten`: a kid
 * there is never added again (a replayed old ring must not bring back a key retired here), so
 * keep the same set from one call to the next. Internal to the sync part.
 */
export function applyKeyRing(
  live: KeyRing,
  source: KeyRing,
  forgotten: Set<string> = new Set(),
): void {
  for (const local of live.keys()) {
    if (local.state !== 'retired' && source.get(local.kid) === undefined) live.retire(local.kid);
  }
  const incoming = source
    .keys()
    .filter((key) => live.get(key.kid) === undefined && !forgotten.has(key.kid));
  makeRoom(live, source, incoming.length, forgotten);
  const active = activeKeyOf(source);
  for (const key of source.keys()) {
    if (key === active || forgotten.has(key.kid)) continue;
    const local = live.get(key.kid);
    if (local === undefined) live.add(key);
    else if (local.state !== 'retired' && local.state !== key.state)
      live.setState(key.kid, key.state);
  }
  // Last, so that the new signer takes over from whichever key was still active here (adding or
  // activating it demotes that one to verify-only).
  if (active !== undefined && !forgotten.has(active.kid)) {
    const local = live.get(active.kid);
    if (local === undefined) live.add(active);
    else if (local.state === 'verify-only') live.setState(active.kid, 'active');
  }
}

function makeRoom(live: KeyRing, source: KeyRing, needed: number, forgotten: Set<string>): void {
  let excess = live.keys().length + needed - KeyRing.capacity;
  for (const local of live.keys()) {
    if (excess <= 0) return;
    if (local.state === 'retired' && source.get(local.kid) === undefined) {
      live.forget(local.kid);
      forgotten.add(local.kid);
      excess--;
    }
  }
}
