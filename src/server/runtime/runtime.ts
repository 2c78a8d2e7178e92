import { join } from 'node:path';
import type { Verifier } from '../../jwt/verify.js';
import { createRevocationIndex } from '../../revocation/revocation-index.js';
import type { RevocationIndex } from '../../revocation/types.js';
import { createRevocableVerifier } from '../../revocation/verifier.js';
import { createSessionManager, type SessionManager } from '../../sessions/session-manager.js';
import { createLogFollower } from '../../sync/log-follower.js';
import { openSharedKeyRing, type SharedKeyRing } from '../../sync/shared-key-ring.js';
import type { RevocationFollower } from '../../sync/types.js';
import type { ServerConfig } from '../config/index.js';
import { createRevocationFeed, type RevocationFeed } from '../feed/index.js';
import { createServerMetrics, type ServerMetrics } from '../metrics/index.js';
import { type Accounts, createAccounts } from '../users/index.js';
import { watchAudit } from './audit-metrics.js';
import { type Backend, openBackend } from './backend.js';
import { type DerivedSecrets, deriveSecrets, loadOrCreateKeysSecret } from './secrets.js';

/** The file of the data directory where a process keeps its last revocation snapshot. */
export const SNAPSHOT_FILE = 'revocations.snapshot';

// Ended sessions are kept this long past the index's horizon, so `GET /auth/sessions` and the
// admin's view can still tell a theft-ended session from an unknown one for a while.
const SESSION_RETENTION = 7 * 24 * 3600;
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Everything one server process runs on: the store and its follower, the shared key ring, the
 * session manager, the verifier of `GET /auth/me`, the accounts, the revocation feed and the
 * metrics. The HTTP layer only calls into these.
 */
export interface ServerRuntime {
  readonly config: ServerConfig;
  readonly backend: Backend;
  readonly index: RevocationIndex;
  readonly keys: SharedKeyRing;
  readonly follower: RevocationFollower;
  readonly sessions: SessionManager;
  /** Verifies access tokens as a resource server does: the local index, no store read, cached. */
  readonly verifier: Verifier;
  readonly accounts: Accounts;
  readonly feed: RevocationFeed;
  readonly metrics: ServerMetrics;
  readonly secrets: DerivedSecrets;
  /** Stops following, closes the store and every connection. Idempotent. */
  close(): Promise<void>;
}

function warn(error: unknown): void {
  process.emitWarning(
    `revocable server: ${error instanceof Error ? error.message : String(error)}`,
    'RevocableWarning',
  );
}

/**
 * Opens the store, loads the key ring (creating it on an empty store), loads the live revocations
 * and starts following the log. Resolves once the index is fresh, so the first request is already
 * checked against every revocation.
 */
export async function openRuntime(config: ServerConfig): Promise<ServerRuntime> {
  const backend = await openBackend(config);
  const closers: (() => Promise<void> | void)[] = [() => backend.close()];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close();
    closers.length = 0;
  };
  try {
    const secrets = deriveSecrets(
      config.databaseUrl === null
        ? loadOrCreateKeysSecret(config.dataDir, config.keysSecret)
        : (config.keysSecret ?? ''),
    );
    const index = createRevocationIndex({ maxAccessTokenLifetime: config.accessTtl });
    const keys = await openSharedKeyRing({
      store: backend.keyRingStore,
      secret: secrets.keysSecret,
      index,
      onError: warn,
    });
    closers.push(() => keys.close());
    const follower = createLogFollower({
      store: backend.store,
      index,
      ...(backend.transport === undefined ? {} : { transport: backend.transport }),
      maxStaleness: config.maxStaleness,
      snapshotFile: join(config.dataDir, SNAPSHOT_FILE),
      afterRead: () => keys.refresh(),
      onError: warn,
    });
    await follower.start();
    closers.push(() => follower.stop());
    const sessions = createSessionManager({
      store: backend.store,
      keys,
      index,
      issuer: config.issuer,
      audience: [...config.audience],
      refreshSecret: secrets.refreshSecret,
      accessTokenTtl: config.accessTtl,
      idleTimeout: config.idleTimeout,
      absoluteLifetime: config.sessionLifetime,
      refreshGrace: config.refreshGrace,
      ...(backend.publisher === undefined ? {} : { publisher: backend.publisher }),
    });
    const verifier = createRevocableVerifier({
      keys: keys.ring,
      index,
      issuer: config.issuer,
      audience: [...config.audience],
      maxStaleness: config.maxStaleness,
      // A client presents the same token until it expires: after the first request, a hit costs
      // a hash and a lookup instead of a signature check. Revocations still apply on every hit.
      cache: true,
    });
    const metrics = createServerMetrics({ syncHealth: () => follower.health() });
    watchAudit(sessions, metrics);
    const feed = createRevocationFeed({ store: backend.store, index, onError: warn });
    closers.push(() => feed.close());
    metrics.registry.gauge(
      'revocable_feed_subscribers',
      'Open revocation streams (GET /revocations/stream) of this process.',
      [],
      () => feed.status().subscribers,
    );
    metrics.registry.gauge(
      'revocable_feed_backlog_reads',
      'Revocation streams of this process reading their backlog from the store now.',
      [],
      () => feed.status().backlogReads,
    );
    metrics.registry.gauge(
      'revocable_feed_backlog_waiting',
      'Revocation streams of this process waiting for a turn to read their backlog.',
      [],
      () => feed.status().backlogWaiting,
    );
    const accounts = createAccounts({ users: backend.users, throttle: backend.throttle });
    const pruner = setInterval(() => {
      backend.store.prune(index.horizon(), SESSION_RETENTION).catch(warn);
    }, PRUNE_INTERVAL_MS);
    pruner.unref();
    closers.push(() => clearInterval(pruner));
    let closing: Promise<void> | undefined;
    return {
      config,
      backend,
      index,
      keys,
      follower,
      sessions,
      verifier,
      accounts,
      feed,
      metrics,
      secrets,
      close() {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (error) {
    await closeAll().catch(() => undefined);
    throw error;
  }
}
