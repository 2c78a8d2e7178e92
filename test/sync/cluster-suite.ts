import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSubjectRevocation } from '../../src/revocation/index.js';
import type { TokenPair } from '../../src/sessions/index.js';
import { createPostgresPublisher, createPostgresStore } from '../../src/stores/postgres/index.js';
import type { SyncHealth } from '../../src/sync/index.js';
import { skipIfMissing } from '../support/services.js';
import { Cluster, type ClusterOptions, type WatchReport } from './cluster.js';
import { openPostgres, terminate, waitFor } from './postgres-support.js';

const TIMING = { maxAccessTokenLifetime: 600, clockSkew: 0 };
// A refusal because the index is stale is a refusal too, but not the one these tests wait for.
const REVOKED = new Set(['ERR_TOKEN_REVOKED', 'ERR_JWT_KEY_RETIRED']);

function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));
  return header.kid as string;
}

/**
 * Three worker processes sharing one PostgreSQL store (and, for `postgres`, one channel): every
 * kind of revocation made in one is refused by the others; faults (a worker killed and restarted,
 * its connection terminated, events duplicated and reordered) change nothing; and all along every
 * worker keeps verifying every revoked token, and none is accepted later than the staleness bound
 * after the revoking call returned.
 */
export function describeClusterSuite(
  title: string,
  options: Omit<ClusterOptions, 'schema' | 'watchEveryMs'>,
): void {
  describe(title, () => {
    const db = openPostgres();
    let missing: string | null = null;
    let cluster: Cluster;
    const boundMs = options.maxStaleness * 1000;
    /** When each revocation's call returned, by the label of the token it killed. */
    const revokedAt = new Map<string, number>();
    const names = ['w1', 'w2', 'w3'];

    before(async () => {
      const opened = await db;
      missing = opened.missing;
      if (missing !== null) return;
      cluster = new Cluster({ ...options, schema: await opened.newSchema(), watchEveryMs: 5 });
      await Promise.all(names.map((name) => cluster.start(name)));
    });
    after(async () => {
      await cluster?.stop();
      await (await db).cleanup();
    });

    const login = (name: string, sub: string) =>
      cluster.request<TokenPair>(name, { cmd: 'login', sub });

    async function reports(): Promise<Map<string, WatchReport>[]> {
      const all = await cluster.all<WatchReport[]>({ cmd: 'report' });
      return all.map((list) => new Map(list.map((report) => [report.label, report])));
    }

    /** Makes every worker watch the tokens (each accepted everywhere first). */
    async function watch(tokens: Record<string, string>, workers = cluster.names): Promise<void> {
      for (const [label, token] of Object.entries(tokens)) {
        assert.deepEqual(
          await cluster.all({ cmd: 'verify', token }, workers),
          workers.map(() => 'ok'),
          `${label} is accepted everywhere before its revocation`,
        );
        await cluster.all({ cmd: 'watch', label, token }, workers);
      }
    }

    /** Waits until every worker refuses every labelled token as revoked. */
    async function refusedEverywhere(labels: readonly string[]): Promise<void> {
      await waitFor(
        async () => {
          const all = await reports();
          return all.every((byLabel) =>
            labels.every((label) => byLabel.get(label)?.firstRefusedAt != null),
          );
        },
        15_000,
        `every worker refusing ${labels.join(', ')}`,
      );
      for (const byLabel of await reports()) {
        for (const label of labels) {
          const refusedWith = byLabel.get(label)?.refusedWith ?? '';
          assert.ok(REVOKED.has(refusedWith), `${label} refused with ${refusedWith}`);
        }
      }
    }

    /** One revocation by one worker, which every worker must then refuse. */
    async function revoke(
      by: string,
      op: string,
      args: unknown[],
      tokens: Record<string, string>,
    ): Promise<void> {
      await watch(tokens);
      const { returnedAt } = await cluster.request<{ returnedAt: number }>(by, {
        cmd: 'revoke',
        op,
        args,
      });
      for (const label of Object.keys(tokens)) revokedAt.set(label, returnedAt);
      await refusedEverywhere(Object.keys(tokens));
    }

    it('a worker killed with SIGKILL and restarted refuses what was revoked while it was down', async (t) => {
      if (skipIfMissing(t, missing)) return;
      const a = await login('w1', 'killed-a');
      const b = await login('w2', 'killed-b');
      await watch({ 'killed-a': a.accessToken, 'killed-b': b.accessToken });
      await cluster.kill('w3');
      const one = await cluster.request<{ returnedAt: number }>('w1', {
        cmd: 'revoke',
        op: 'logout',
        args: [a.sid],
      });
      revokedAt.set('killed-a', one.returnedAt);
      const two = await cluster.request<{ returnedAt: number }>('w2', {
        cmd: 'revoke',
        op: 'logoutAll',
        args: ['killed-b'],
      });
      revokedAt.set('killed-b', two.returnedAt);
      await cluster.start('w3');
      // Ready means started: the log was read, so both are refused at once, with no waiting.
      assert.equal(
        await cluster.request('w3', { cmd: 'verify', token: a.accessToken }),
        'ERR_TOKEN_REVOKED',
      );
      assert.equal(
        await cluster.request('w3', { cmd: 'verify', token: b.accessToken }),
        'ERR_TOKEN_REVOKED',
      );
      await cluster.all({ cmd: 'watch', label: 'killed-a', token: a.accessToken }, ['w3']);
      await cluster.all({ cmd: 'watch', label: 'killed-b', token: b.accessToken }, ['w3']);
      await refusedEverywhere(['killed-a', 'killed-b']);
    });

    it(`pg_terminate_backend on one worker's ${options.mode === 'postgres' ? 'LISTEN connection' : 'store connections'}: it reconnects and refuses what was revoked meanwhile`, async (t) => {
      if (skipIfMissing(t, missing)) return;
      const pair = await login('w1', 'terminated');
      await watch({ terminated: pair.accessToken });
      const before = await cluster.request<SyncHealth>('w2', { cmd: 'health' });
      const killed = await terminate((await db).pool, cluster.connectionName('w2'));
      assert.ok(killed >= 1, 'a connection was terminated');
      const { returnedAt } = await cluster.request<{ returnedAt: number }>('w3', {
        cmd: 'revoke',
        op: 'logout',
        args: [pair.sid],
      });
      revokedAt.set('terminated', returnedAt);
      await refusedEverywhere(['terminated']);
      if (options.mode === 'postgres') {
        await waitFor(
          async () => {
            const health = await cluster.request<SyncHealth>('w2', { cmd: 'health' });
            return health.connected && health.reconnects === before.reconnects + 1;
          },
          15_000,
          'w2 listening again',
        );
        // And the new connection carries pushes: one more revocation reaches it.
        const next = await login('w1', 'after-terminate');
        await revoke('w1', 'logout', [next.sid], { 'after-terminate': next.accessToken });
      }
    });

    it('an event published twice and two events out of order change nothing', async (t) => {
      if (skipIfMissing(t, missing)) return;
      const { pool } = await db;
      const store = createPostgresStore({ client: pool, schema: cluster.options.schema });
      const old = await login('w1', 'reordered');
      await watch({ reordered: old.accessToken });
      const first = await store.bumpGeneration('reordered');
      const second = await store.bumpGeneration('reordered');
      const at = Date.now() / 1000;
      const earlier = createSubjectRevocation({ sub: 'reordered', gen: first, at }, TIMING);
      const later = createSubjectRevocation({ sub: 'reordered', gen: second, at }, TIMING);
      // Into the log the later one first, and on the bus the later, the earlier, the later again.
      await store.appendEvents([later]);
      await store.appendEvents([earlier]);
      if (options.mode === 'postgres') {
        const publisher = createPostgresPublisher({ pool, channel: cluster.channel });
        await publisher.publish([later]);
        await publisher.publish([earlier]);
        await publisher.publish([later]);
      }
      revokedAt.set('reordered', Date.now());
      await refusedEverywhere(['reordered']);
      // A token of the latest generation lives everywhere, once every worker has read the log too.
      const fresh = await login('w2', 'reordered');
      await cluster.all({ cmd: 'catchUp' });
      assert.deepEqual(await cluster.all({ cmd: 'verify', token: fresh.accessToken }), [
        'ok',
        'ok',
        'ok',
      ]);
      for (const health of await cluster.all<SyncHealth>({ cmd: 'health' })) {
        assert.ok(health.eventsReceived > health.eventsApplied, 'duplicates were received');
      }
    });

    it('every kind of revocation made in one worker is refused by the others', async (t) => {
      if (skipIfMissing(t, missing)) return;
      const logout = await login('w1', 'k-logout');
      await revoke('w2', 'logout', [logout.sid], { logout: logout.accessToken });

      const all1 = await login('w2', 'k-all');
      const all2 = await login('w3', 'k-all');
      await revoke('w3', 'logoutAll', ['k-all'], {
        'logoutAll-1': all1.accessToken,
        'logoutAll-2': all2.accessToken,
      });

      const banned = await login('w3', 'k-ban');
      await revoke('w1', 'ban', ['k-ban'], { ban: banned.accessToken });

      const kept = await login('w1', 'k-password');
      const other = await login('w2', 'k-password');
      // The kept session's current access token dies too; its next refresh gets a fresh one.
      await revoke('w2', 'passwordChanged', ['k-password', { keep: kept.sid }], {
        'passwordChanged-kept': kept.accessToken,
        'passwordChanged-other': other.accessToken,
      });

      const claims = await login('w2', 'k-claims');
      await revoke('w3', 'claimsChanged', ['k-claims', { role: 'reader' }], {
        claimsChanged: claims.accessToken,
      });

      const token = await login('w3', 'k-token');
      await revoke('w1', 'revokeToken', [token.jti], { revokeToken: token.accessToken });

      const everything = await login('w1', 'k-everything');
      await revoke('w2', 'revokeEverything', [], { revokeEverything: everything.accessToken });
      // A token issued in the same second as the global cut-off is dead (iat has whole seconds):
      // the next login waits for the next second.
      const cutoff = revokedAt.get('revokeEverything')!;
      await waitFor(() => Date.now() >= Math.ceil(cutoff / 1000) * 1000, 5000, 'the next second');

      // Last: the other workers' rings keep no active key once it is retired.
      const keyed = await login('w3', 'k-key');
      await revoke('w1', 'retireKey', [kidOf(keyed.accessToken)], {
        retireKey: keyed.accessToken,
      });
    });

    it('no worker ever accepted a revoked token later than the bound after its revocation', async (t) => {
      if (skipIfMissing(t, missing)) return;
      // One more round of checks, so that the last revocations were verified for a while too.
      await cluster.all({ cmd: 'catchUp' });
      let checked = 0;
      for (const [i, byLabel] of (await reports()).entries()) {
        for (const [label, report] of byLabel) {
          const at = revokedAt.get(label);
          assert.ok(at !== undefined, `${label} was revoked`);
          checked++;
          assert.equal(
            report.acceptedAfterRefusal,
            0,
            `${names[i]} accepted ${label} after refusing it`,
          );
          if (report.lastAcceptedAt !== null) {
            assert.ok(
              report.lastAcceptedAt <= at + boundMs,
              `${names[i]} accepted ${label} ${(report.lastAcceptedAt - at).toFixed(1)} ms after its revocation (bound ${boundMs} ms)`,
            );
          }
        }
      }
      assert.ok(checked >= 3 * 14, `${checked} watches checked`);
    });
  });
}
