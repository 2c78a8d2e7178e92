import { RevocableError } from '../errors/revocable-error.js';
import { type Algorithm, isAlgorithm } from '../jwt/algorithms.js';
import { KeyRing } from '../jwt/key-ring.js';
import type { JwtKey } from '../jwt/keys.js';
import {
  KEYS_SECRET_VARIABLE,
  keysSecretBytes,
  sealKeyRing,
  unsealKeyRing,
} from '../jwt/sealed-key-ring.js';
import type { Clock } from '../lib/clock.js';
import type { RevocationIndex } from '../revocation/types.js';
import type { KeyRingStore, StoredKeyRing } from '../stores/key-ring-store.js';
import { activeKeyOf, applyKeyRing } from './internal/apply-key-ring.js';

/** Options for {@link openSharedKeyRing}. */
export interface SharedKeyRingOptions {
  /** Where the sealed ring lives: the same store (table, prefix) for every process. */
  store: KeyRingStore;
  /**
   * The secret the ring is sealed with: at least 32 bytes, the same in every process. Default:
   * the `REVOCABLE_KEYS_SECRET` environment variable. Missing or short: `ERR_KEYS_SECRET`.
   */
  secret?: string | Uint8Array;
  /** The algorithm of the first key, when the store holds no ring yet (default `EdDSA`). */
  alg?: Algorithm;
  /** The clock of new keys' `createdAt`, in epoch seconds (default: the system clock). */
  now?: Clock;
  /**
   * The process's revocation index. When given, every key revocation it applies (pushed, read
   * from the log, or made here) makes the ring reload at once: a key retired elsewhere comes with
   * the key that replaced it, so this process goes on signing.
   */
  index?: RevocationIndex;
  /** Receives the errors of reloads nobody awaits (default: a process warning). */
  onError?: (error: unknown) => void;
}

/**
 * One process's view of the cluster's key ring (see {@link openSharedKeyRing}).
 */
export interface SharedKeyRing {
  /**
   * The live ring: the same object for the life of the process, changed in place, so signers and
   * verifiers built on it see every rotation and retirement on their next call.
   */
  readonly ring: KeyRing;
  /** The store revision the ring was last brought to. */
  readonly revision: number;
  /**
   * Generates a new active key (default: the active key's algorithm), saves the ring with it, and
   * applies it here. The previous active key only verifies from now on. Other processes sign with
   * the new key once they have reloaded (their follower's next read, see `afterRead`).
   */
  rotate(alg?: Algorithm): Promise<JwtKey>;
  /**
   * Retires a key in the stored ring and here. Retiring the active key puts a fresh key of the
   * same algorithm in its place in the same write, so the cluster is never without a signer. This
   * changes the ring only: to refuse the key's tokens everywhere within the staleness bound, use
   * the session manager's `retireKey`, which also logs the key revocation.
   */
  retire(kid: string): Promise<JwtKey>;
  /** Reloads the ring if the store's revision moved; true when something was applied. */
  refresh(): Promise<boolean>;
  /** Stops listening to the index. The ring stays as it is. */
  close(): void;
}

// Saves that lose the compare-and-set are tried again on the newer ring; this many losses in a row
// mean something writes the ring in a loop.
const MAX_ATTEMPTS = 20;

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function rolledBack(found: number, seen: number): RevocableError {
  return new RevocableError(
    'ERR_KEYRING_SEALED_INVALID',
    found === 0
      ? `The shared key ring is gone from the store (this process had revision ${seen}): restore it; a new one is only created by a process that starts on an empty store.`
      : `The store holds key ring revision ${found}, older than revision ${seen} this process has seen: the ring was rolled back, and it is not applied.`,
  );
}

function conflict(): RevocableError {
  return new RevocableError(
    'ERR_KEYRING_CONFLICT',
    `The shared key ring changed under ${MAX_ATTEMPTS} attempts in a row to save it.`,
  );
}

/**
 * Opens the cluster's key ring: loads it from `store` (unsealing it with the secret), or, when the
 * store holds none, creates it with one active key of `alg`, through the store's compare-and-set
 * so that processes starting together all end with the one ring that won. Refuses to start
 * without a valid secret (`ERR_KEYS_SECRET`, naming `REVOCABLE_KEYS_SECRET`) and on a ring that
 * does not unseal (`ERR_KEYRING_SEALED_INVALID`).
 *
 * Changes made elsewhere are applied to the live ring in place: keys added, states changed, and a
 * key the store no longer holds retired (never deleted, so its tokens are refused, not unknown). A
 * key retired here, by the store or by a key revocation event, is never brought back by a reload,
 * and is carried into the store by this process's next write.
 *
 * Wiring: give `refresh` to the log follower as `afterRead` (every process then reloads within its
 * poll interval), the index as `index` (a key revocation reloads at once), and the shared ring to
 * the session manager as `keys` (its `retireKey` then writes the ring before logging the event).
 *
 * @example
 * ```ts
 * const shared = await openSharedKeyRing({ store: keyRingStore, index }); // REVOCABLE_KEYS_SECRET
 * const follower = createLogFollower({ store, index, afterRead: shared.refresh });
 * const sessions = createSessionManager({ store, keys: shared, index, issuer, audience, refreshSecret });
 * const verifier = createRevocableVerifier({ keys: shared.ring, index, issuer, audience });
 * await follower.start();
 * await shared.rotate(); // every process signs with the new key after its next read
 * ```
 */
export async function openSharedKeyRing(options: SharedKeyRingOptions): Promise<SharedKeyRing> {
  if (typeof options !== 'object' || options === null) {
    throw invalid('openSharedKeyRing needs options.');
  }
  const { store, index } = options;
  if (
    typeof store?.load !== 'function' ||
    typeof store.save !== 'function' ||
    typeof store.revision !== 'function'
  ) {
    throw invalid('store must be a KeyRingStore.');
  }
  // Read once: the secret must not change under a running process, and checked before the store
  // is touched, so a misconfigured process stops at start with the reason.
  const secret = keysSecretBytes(options.secret ?? process.env[KEYS_SECRET_VARIABLE]);
  const defaultAlg = options.alg ?? 'EdDSA';
  if (!isAlgorithm(defaultAlg)) throw invalid('alg must be a supported algorithm.');
  const now = options.now;
  if (now !== undefined && typeof now !== 'function') throw invalid('now must be a function.');
  if (index !== undefined && typeof index?.onApply !== 'function') {
    throw invalid('index must be a RevocationIndex.');
  }
  const clock = now === undefined ? {} : { now };
  const report =
    options.onError ??
    ((error: unknown) =>
      process.emitWarning(
        `revocable: shared key ring: ${error instanceof Error ? error.message : String(error)}`,
        'RevocableWarning',
      ));

  const ring = new KeyRing();
  let revision = 0;
  // Kids of retired keys dropped from the ring to make room: never added again.
  const forgottenKids = new Set<string>();

  const unseal = (stored: StoredKeyRing): KeyRing =>
    unsealKeyRing(stored.sealed, secret, { revision: stored.revision, ...clock });
  const seal = (source: KeyRing, at: number): string =>
    sealKeyRing(source, secret, { revision: at });

  // Applies a ring of revision `at` unless this process already holds it or a later one (a reload
  // that started before a write of this process may finish after it).
  function adopt(source: KeyRing, at: number): boolean {
    if (at <= revision) return false;
    applyKeyRing(ring, source, forgottenKids);
    revision = at;
    return true;
  }

  async function loadOrCreate(): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const stored = await store.load();
      if (stored !== null) {
        adopt(unseal(stored), stored.revision);
        return;
      }
      const fresh = KeyRing.generate(defaultAlg, clock);
      if (await store.save(0, seal(fresh, 1))) {
        adopt(fresh, 1);
        return;
      }
      // Another process created it first: load theirs.
    }
    throw conflict();
  }

  // Loads the stored ring, lets `change` edit a copy, and saves it with the compare-and-set; on a
  // lost race, starts again from the ring that won. `change` returns whether it changed anything.
  async function write<T>(change: (working: KeyRing) => { result: T; changed: boolean }) {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const seen = revision;
      const stored = await store.load();
      if (stored === null || stored.revision < seen) throw rolledBack(stored?.revision ?? 0, seen);
      const working = unseal(stored);
      const signerAlg = activeKeyOf(working)?.alg ?? defaultAlg;
      // Retirements this process knows of (a key revocation event, an earlier ring) are never
      // undone by a write: they go into the store with it.
      let changed = false;
      for (const key of ring.keys()) {
        const other = working.get(key.kid);
        if (key.state === 'retired' && other !== undefined && other.state !== 'retired') {
          working.retire(key.kid);
          changed = true;
        }
      }
      const outcome = change(working);
      changed ||= outcome.changed;
      // Whatever was retired, the ring saved keeps a signer.
      if (activeKeyOf(working) === undefined) {
        working.rotate(signerAlg);
        changed = true;
      }
      if (!changed) {
        adopt(working, stored.revision);
        return outcome.result;
      }
      const next = stored.revision + 1;
      if (await store.save(stored.revision, seal(working, next))) {
        adopt(working, next);
        return outcome.result;
      }
    }
    throw conflict();
  }

  // One reload at a time; a request during one makes one more after it, so a caller is never
  // answered by a reload that started before it asked.
  let reloading: Promise<boolean> | null = null;
  let again = false;

  async function reloadOnce(): Promise<boolean> {
    const seen = revision;
    const current = await store.revision();
    // The cheap read first: the sealed ring is loaded and decrypted only when it changed.
    if (current === seen) return false;
    if (current < seen) throw rolledBack(current, seen);
    const stored = await store.load();
    if (stored === null || stored.revision < seen) throw rolledBack(stored?.revision ?? 0, seen);
    return adopt(unseal(stored), stored.revision);
  }

  function refresh(): Promise<boolean> {
    if (reloading !== null) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      try {
        let applied = false;
        do {
          again = false;
          applied = (await reloadOnce()) || applied;
        } while (again);
        return applied;
      } finally {
        reloading = null;
      }
    })();
    return reloading;
  }

  await loadOrCreate();

  // After a key revocation: reload, and if the ring is then left without a signer (the event
  // retired the stored ring's active key, e.g. a retireKey of a process without a shared ring, or
  // one that died between logging the event and writing the ring), write the retirement into the
  // store with a fresh signer. Processes racing to do so meet at the compare-and-set; the losers
  // find the work done and write nothing.
  async function follow(): Promise<void> {
    await refresh();
    if (activeKeyOf(ring) === undefined) await write(() => ({ result: null, changed: false }));
  }

  const stops: Array<() => void> = [];
  if (index !== undefined) {
    const followNow = () => {
      follow().catch(report);
    };
    stops.push(
      index.onApply((event) => {
        if (event.kind === 'key') followNow();
      }),
    );
    if (typeof index.onLoad === 'function') stops.push(index.onLoad(followNow));
  }

  return {
    ring,
    get revision() {
      return revision;
    },
    rotate(alg) {
      if (alg !== undefined && !isAlgorithm(alg))
        throw invalid('alg must be a supported algorithm.');
      return write((working) => {
        let chosen = alg;
        try {
          chosen ??= working.active.alg;
        } catch {
          chosen = defaultAlg;
        }
        return { result: working.rotate(chosen), changed: true };
      });
    },
    async retire(kid) {
      if (typeof kid !== 'string') {
        throw new RevocableError(
          'ERR_KEYRING_KID_UNKNOWN',
          'The key ring has no key with that kid.',
        );
      }
      // A key another process added since the last reload is known after this one.
      if (ring.get(kid) === undefined) await refresh();
      if (ring.get(kid) === undefined) {
        throw new RevocableError(
          'ERR_KEYRING_KID_UNKNOWN',
          'The key ring has no key with that kid.',
        );
      }
      return write((working) => {
        const key = working.get(kid);
        if (key === undefined) {
          // Gone from the store: a reload retires it here; there is nothing to write.
          return { result: ring.get(kid) as JwtKey, changed: false };
        }
        if (key.state === 'retired') return { result: key, changed: false };
        // The replacement goes in first, in the same write: no process ever loads a ring whose
        // signer was just retired.
        if (key.state === 'active') working.rotate(key.alg);
        return { result: working.retire(kid), changed: true };
      });
    },
    refresh,
    close() {
      for (const stop of stops.splice(0)) stop();
    },
  };
}
