import { RevocableError } from '../errors/revocable-error.js';
import type { KeyRing } from '../jwt/key-ring.js';
import type { RevocationIndex } from './types.js';

/**
 * Carries key revocations into a key ring: every key event the index applies, whatever its origin
 * (the bus, the log, a local call), and every `kid` a snapshot load brings, retires that key in
 * `ring` if the ring holds it and has not retired it yet; the kids the index already holds are
 * retired at once. The index refuses the key's tokens either way; the ring must follow because it
 * outlives the index's view of the world: a process restarted from its own ring file, a verifier
 * built on the ring without the index, the JWKS it publishes (a retired key leaves it), and the
 * signer (a retired active key stops signing). Returns the function that stops it.
 *
 * A process that replaces its ring object (reloading it from the store) binds the new one; the
 * binding retires the revoked kids it holds straight away.
 *
 * @example
 * ```ts
 * const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
 * const unbind = bindKeyRing(index, ring);
 * bus.on('event', (text) => index.apply(parseRevocationEventJson(text))); // a key event retires it
 * ```
 */
export function bindKeyRing(index: RevocationIndex, ring: KeyRing): () => void {
  if (
    typeof index?.onApply !== 'function' ||
    typeof index.onLoad !== 'function' ||
    typeof index.revokedKeys !== 'function'
  ) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'bindKeyRing needs a RevocationIndex.');
  }
  if (typeof ring?.get !== 'function' || typeof ring.retire !== 'function') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'bindKeyRing needs a KeyRing.');
  }
  const retire = (kid: string): void => retireHeldKey(ring, kid);
  const retireAll = (): void => retireRevokedKeys(index, ring);
  retireAll();
  const stopApply = index.onApply((event) => {
    if (event.kind === 'key') retire(event.target);
  });
  // A snapshot carries kids, not events: every kid the index now holds is looked at again.
  const stopLoad = index.onLoad(retireAll);
  return () => {
    stopApply();
    stopLoad();
  };
}

function retireHeldKey(ring: KeyRing, kid: string): void {
  const key = ring.get(kid);
  // Retiring again would still bump the ring's revision and empty every verification cache.
  if (key !== undefined && key.state !== 'retired') ring.retire(kid);
}

/**
 * Retires in `ring` every key it holds that `index` holds revoked: what `bindKeyRing` does at once
 * and after each snapshot load, for a ring that gained keys another way (a JWKS read after the
 * snapshot that revoked one of them). @internal
 */
export function retireRevokedKeys(
  index: Pick<RevocationIndex, 'revokedKeys'>,
  ring: KeyRing,
): void {
  for (const kid of index.revokedKeys()) retireHeldKey(ring, kid);
}
