// Several OS processes of one deployment sharing a Redis store and a Redis bus: each revocation
// made in one is refused by every other, and stays so through the bus's faults: the bus server
// stopped and restarted, a process killed and restarted, duplicated and reordered messages.
// Throughout, every process keeps verifying each revoked token and records any it accepted later
// than the staleness bound after the revoking call returned: there must be none.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KeyRing } from '../../src/jwt/index.js';
import {
  createSessionRevocation,
  createSubjectRevocation,
  type RevocationEvent,
  serializeRevocationEvent,
} from '../../src/revocation/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { connectSharedRedis, prefixesOn, type SharedRedis } from '../stores/redis-support.js';
import { REDIS_URL, skipIfMissing } from '../support/services.js';
import {
  isRevokedVerdict,
  type RevocationKind,
  startWorker,
  type Verdict,
  type Worker,
  type WorkerConfig,
  type WorkerReport,
} from './redis-sync-protocol.js';
import { startOwnRedis, waitUntil } from './sync-support.js';

const TIMING = { maxAccessTokenLifetime: 600, clockSkew: 5 };
let shared: SharedRedis;
let prefixes: ReturnType<typeof prefixesOn>;
const running: Worker[] = [];
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  shared = await connectSharedRedis();
  prefixes = prefixesOn(shared.client);
});
after(async () => {
  await Promise.all(running.map((worker) => worker.kill()));
  for (const cleanup of cleanups) await cleanup();
  if (shared.missing === null) await prefixes.dropAll();
  shared.client.disconnect();
});

interface Login {
  accessToken: string;
  sid: string;
  jti: string;
  sub: string;
  kid: string;
}

/** A deployment of `count` workers sharing one store, one bus and one key ring. */
async function deploy(count: number, settings: Partial<WorkerConfig> = {}) {
  const base: WorkerConfig = {
    name: 'w',
    storeUrl: REDIS_URL,
    busUrl: REDIS_URL,
    prefix: prefixes.freshPrefix(),
    ring: KeyRing.generate('HS256').toJSON(),
    refreshSecret: randomBytes(32).toString('base64url'),
    maxStaleness: 1.5,
    pollInterval: 0.25,
    heartbeatInterval: 0.25,
    ...settings,
  };
  const start = async (i: number) => {
    const worker = await startWorker({ ...base, name: `w${i}` });
    running.push(worker);
    return worker;
  };
  const workers = await Promise.all(Array.from({ length: count }, (_, i) => start(i)));
  const revoked: { token: string; kind: string }[] = [];
  const live = () =>
    workers.filter(
      (worker) => worker.process.exitCode === null && worker.process.signalCode === null,
    );

  /** Revokes in `by`; every worker watches `tokens` from then on. */
  async function revoke(by: Worker, kind: RevocationKind, arg: string, tokens: string[]) {
    const { returnedAt } = await by.ask<{ returnedAt: number }>({ op: 'revoke', kind, arg });
    for (const token of tokens) {
      revoked.push({ token, kind });
      await Promise.all(
        live().map((worker) => worker.ask({ op: 'watch', token, revokedAt: returnedAt })),
      );
    }
  }

  /** Waits until every worker refuses every token revoked so far, for revocation. */
  async function allRefused(): Promise<void> {
    for (const { token, kind } of revoked) {
      for (const worker of live()) {
        await waitUntil(`${worker.name} refuses the ${kind} token`, async () =>
          isRevokedVerdict(await worker.ask<Verdict>({ op: 'verify', token })),
        );
      }
    }
  }

  async function accepted(token: string): Promise<void> {
    for (const worker of workers) {
      assert.equal(await worker.ask<Verdict>({ op: 'verify', token }), 'ok', worker.name);
    }
  }

  /** No worker accepted a revoked token past the bound; returns the reports. */
  async function noLateAcceptance(): Promise<WorkerReport[]> {
    const reports = await Promise.all(
      workers.map((worker) => worker.ask<WorkerReport>({ op: 'report' })),
    );
    for (const [i, report] of reports.entries()) {
      assert.deepEqual(report.late, [], `w${i} accepted a revoked token past the bound`);
      assert.ok(report.checks > 0, 'the watch loop ran');
    }
    return reports;
  }

  cleanups.push(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
  });
  return { base, workers, start, revoke, allRefused, accepted, noLateAcceptance, revoked };
}

const user = () => `user-${randomBytes(4).toString('hex')}`;

describe('revocation across processes over Redis', () => {
  it('every kind of revocation made in one process is refused by the others', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    // Polls far apart: within this test only the bus (or the read after subscribing) delivers.
    const d = await deploy(3, { pollInterval: 30, maxStaleness: 60 });
    const [w0, w1, w2] = d.workers as [Worker, Worker, Worker];
    const kinds: RevocationKind[] = [
      'logout',
      'logoutAll',
      'ban',
      'passwordChanged',
      'claimsChanged',
      'revokeToken',
      'revokeEverything',
    ];
    for (const [i, kind] of kinds.entries()) {
      const by = d.workers[i % 3]!;
      const sub = user();
      const login = await d.workers[(i + 1) % 3]!.ask<Login>({ op: 'login', sub });
      await d.accepted(login.accessToken);
      const arg = kind === 'logout' ? login.sid : kind === 'revokeToken' ? login.jti : sub;
      await d.revoke(by, kind, arg, [login.accessToken]);
      await d.allRefused();
    }
    // Retiring the shared key comes last: every process stops accepting (and signing with) it.
    // A login in the second of the emergency cut-off may still fall to it; wait for one that
    // does not, so that only the key's retirement can refuse it.
    let fresh: Login;
    for (;;) {
      fresh = await w1.ask<Login>({ op: 'login', sub: user() });
      if ((await w1.ask<Verdict>({ op: 'verify', token: fresh.accessToken })) === 'ok') break;
      await waitUntil('the next second', () => Date.now() % 1000 < 100);
    }
    await d.accepted(fresh.accessToken);
    await d.revoke(w2, 'retireKey', fresh.kid, [fresh.accessToken]);
    await d.allRefused();
    for (const worker of [w0, w1]) {
      assert.match(
        await worker.ask<Verdict>({ op: 'verify', token: fresh.accessToken }),
        /ERR_TOKEN_REVOKED:key|ERR_JWT_KEY_RETIRED/,
      );
    }
    const reports = await d.noLateAcceptance();
    for (const report of reports) assert.deepEqual(report.health.readFailures, 0);
  });

  it('the bus server stopped while revocations happen, then restarted', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    const bus = await startOwnRedis();
    if (bus === null) {
      if (process.env.CI === 'true') throw new Error('redis-server cannot be started here');
      return t.skip('redis-server cannot be started here');
    }
    cleanups.push(() => bus.stop());
    // The store stays on the shared server: revocations go on while the bus is down.
    const d = await deploy(3, { busUrl: bus.url });
    const loginAll = (count: number) =>
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          d.workers[i % 3]!.ask<Login>({ op: 'login', sub: user() }),
        ),
      );
    const kinds: RevocationKind[] = [
      'logout',
      'revokeToken',
      'logoutAll',
      'ban',
      'passwordChanged',
      'claimsChanged',
    ];
    await bus.stop();
    const stoppedAt = Date.now();
    await waitUntil('every process saw the bus go', async () => {
      const reports = await Promise.all(
        d.workers.map((worker) => worker.ask<WorkerReport>({ op: 'report' })),
      );
      return reports.every((report) => !report.health.connected);
    });
    // Revocations of every kind, from every process, for several seconds of outage; each refused
    // everywhere through the log alone, within the poll interval.
    while (Date.now() - stoppedAt < 4000) {
      const logins = await loginAll(kinds.length);
      for (const [i, kind] of kinds.entries()) {
        const login = logins[i]!;
        const arg = kind === 'logout' ? login.sid : kind === 'revokeToken' ? login.jti : login.sub;
        await d.revoke(d.workers[i % 3]!, kind, arg, [login.accessToken]);
      }
      await d.allRefused();
    }
    await bus.restart();
    await waitUntil('every process is subscribed again', async () => {
      const reports = await Promise.all(
        d.workers.map((worker) => worker.ask<WorkerReport>({ op: 'report' })),
      );
      return reports.every((report) => report.health.connected && report.health.reconnects >= 1);
    });
    const [a, b] = (await loginAll(2)) as [Login, Login];
    await d.revoke(d.workers[1]!, 'logout', a.sid, [a.accessToken]);
    await d.revoke(d.workers[2]!, 'revokeToken', b.jti, [b.accessToken]);
    await d.allRefused();
    const reports = await d.noLateAcceptance();
    t.diagnostic(
      `${d.revoked.length} revocations; longest a revoked token was still accepted after its revocation returned: ${Math.max(...reports.map((report) => report.longestAcceptedMs))} ms (bound ${d.base.maxStaleness * 1000} ms)`,
    );
  });

  it('a process killed with SIGKILL and restarted refuses every revocation', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    const d = await deploy(3);
    const logins = await Promise.all(
      Array.from({ length: 4 }, () => d.workers[0]!.ask<Login>({ op: 'login', sub: user() })),
    );
    await d.revoke(d.workers[0]!, 'logout', logins[0]!.sid, [logins[0]!.accessToken]);
    await d.allRefused();
    // Killed in the middle of its work: a revocation it was making may or may not be done.
    const victim = d.workers[2]!;
    const pending = victim
      .ask({ op: 'revoke', kind: 'logout', arg: logins[3]!.sid })
      .catch(() => null);
    await victim.kill();
    await pending;
    await d.revoke(d.workers[1]!, 'revokeToken', logins[1]!.jti, [logins[1]!.accessToken]);
    // Restarted: it loads the live events of the log, and is fresh before it answers.
    const reborn = await d.start(2);
    d.workers[2] = reborn;
    for (const login of logins.slice(0, 2)) {
      assert.ok(
        isRevokedVerdict(await reborn.ask<Verdict>({ op: 'verify', token: login.accessToken })),
      );
    }
    for (const login of logins.slice(0, 2)) {
      await reborn.ask({ op: 'watch', token: login.accessToken, revokedAt: Date.now() });
    }
    // And what it revokes reaches the others.
    await d.revoke(reborn, 'logout', logins[2]!.sid, [logins[2]!.accessToken]);
    await d.allRefused();
    await d.noLateAcceptance();
  });

  it('an event published twice and two events out of order change nothing', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    // The log is read once a minute here: what the processes refuse, the bus brought them.
    const d = await deploy(3, { pollInterval: 60, maxStaleness: 120 });
    const store = createRedisStore({ client: shared.client, prefix: d.base.prefix });
    const sub = user();
    const before = await d.workers[0]!.ask<Login>({ op: 'login', sub });
    const other = await d.workers[1]!.ask<Login>({ op: 'login', sub: user() });
    // Two cut-offs of one subject, as two processes would make them, and a session revocation.
    const gen1 = await store.bumpGeneration(sub);
    const gen2 = await store.bumpGeneration(sub);
    const first = createSubjectRevocation({ sub, gen: gen1 }, TIMING);
    const second = createSubjectRevocation({ sub, gen: gen2 }, TIMING);
    const logout = createSessionRevocation({ sid: other.sid }, TIMING);
    // Published only, not appended: the Redis store publishes what it appends itself, in log
    // order, and this test is about the bus delivering duplicates and the later cut-off first.
    const channel = `${d.base.prefix}revocations`;
    const message = (...events: RevocationEvent[]) =>
      `{"t":"e","e":[${events.map(serializeRevocationEvent).join(',')}]}`;
    for (const text of [message(second), message(first), message(logout), message(logout, first)]) {
      await shared.client.publish(channel, text);
    }
    const revokedAt = Date.now();
    for (const token of [before.accessToken, other.accessToken]) {
      d.revoked.push({ token, kind: 'pushed' });
      for (const worker of d.workers) await worker.ask({ op: 'watch', token, revokedAt });
    }
    await d.allRefused();
    // The later cut-off holds: a token of the latest generation lives everywhere, and one of the
    // earlier generation would not.
    const after = await d.workers[2]!.ask<Login>({ op: 'login', sub });
    await d.accepted(after.accessToken);
    for (const worker of d.workers) {
      assert.equal(
        await worker.ask<Verdict>({ op: 'verify', token: before.accessToken }),
        'ERR_TOKEN_REVOKED:subject',
      );
    }
    const reports = await d.noLateAcceptance();
    for (const report of reports) {
      // Five events received, two of them changed the index: the duplicates, and the earlier
      // cut-off arriving after the later one, changed nothing.
      assert.equal(report.health.eventsReceived, 5);
      assert.equal(report.health.eventsApplied, 2);
    }
  });
});
