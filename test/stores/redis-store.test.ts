import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import {
  createRedisStore,
  migrateRedisStore,
  REDIS_LAYOUT_VERSION,
  type RedisClient,
  type RedisStoreOptions,
} from '../../src/stores/redis/index.js';
import type { SessionRecord } from '../../src/stores/types.js';
import { describeSessionSuite } from '../sessions/session-suite.js';
import { REDIS_URL } from '../support/services.js';
import {
  describeStoreContract,
  expectCode,
  makeRotation,
  makeSession,
  makeSessionEvent,
  makeTokenEvent,
  randomId,
  T_PRECISE,
  T0,
} from './contract.js';
import { connectSharedRedis, prefixesOn } from './redis-support.js';

const { client, missing } = await connectSharedRedis();
const { keysOf, dropPrefix, freshPrefix, freshStore, dropAll } = prefixesOn(client);

after(async () => {
  if (missing !== null) return;
  await dropAll();
  client.disconnect();
});

const nowSeconds = () => Date.now() / 1000;

/** Counts the commands a client sends (each is one round trip: nothing here pipelines). */
function recordCommands(target: Redis): { names: string[]; stop(): void } {
  const names: string[] = [];
  const original = target.sendCommand;
  target.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    names.push(args[0].name);
    return original.apply(this, args);
  };
  const stop = () => {
    target.sendCommand = original;
  };
  return { names, stop };
}

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'redis-race-worker.js');

/** Runs one worker per argument list, starts them at one instant, and returns what each printed. */
async function runWorkers(argumentLists: string[][]): Promise<unknown[]> {
  const children = argumentLists.map((args) =>
    spawn(process.execPath, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const ready: Promise<void>[] = [];
  const outputs = children.map((child) => {
    let text = '';
    let announce: () => void = () => {};
    ready.push(new Promise<void>((resolve) => (announce = resolve)));
    return new Promise<unknown>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.startsWith('ready\n')) announce();
      });
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code !== 0) reject(new Error(`worker exited with ${code}`));
        else resolve(JSON.parse(text.slice('ready\n'.length)));
      });
    });
  });
  await Promise.race([Promise.all(ready), Promise.all(outputs)]);
  const startAt = Date.now() + 200;
  for (const child of children) child.stdin.end(`${startAt}\n`);
  return Promise.all(outputs);
}

if (missing !== null) {
  describe('redis store', () => {
    it('needs a Redis server', (t) => t.skip(missing ?? ''));
  });
} else {
  const setup = async () => {
    const { store, prefix } = freshStore();
    return { store, teardown: () => dropPrefix(prefix) };
  };
  describeStoreContract('redis', setup);
  describeStoreContract('redis, hash-tagged prefix as on a Cluster', async () => {
    const { store, prefix } = freshStore({ prefix: freshPrefix(true) });
    return { store, teardown: () => dropPrefix(prefix) };
  });
  describeSessionSuite('the redis store', setup);

  describe('redis store: round trips', () => {
    let counted: Redis;
    before(async () => {
      counted = client.duplicate();
      await counted.ping();
    });
    after(() => counted.disconnect());

    it('reads a session in one round trip and rotates in one', async () => {
      const store = createRedisStore({ client: counted, prefix: freshPrefix() });
      const session = makeSession();
      await store.createSession(session, 0);
      // The first call of each script sends it whole; what is measured is the steady state.
      await store.getSession(session.sid);
      await store.rotateRefresh(session.sid, 'not-current', 0, makeRotation(session));
      const sent = recordCommands(counted);
      try {
        assert.equal((await store.getSession(session.sid))?.sid, session.sid);
        assert.deepEqual(sent.names, ['evalsha']);
        sent.names.length = 0;
        const outcome = await store.rotateRefresh(
          session.sid,
          session.refreshHash,
          0,
          makeRotation(session),
        );
        assert.equal(outcome.status, 'rotated');
        assert.deepEqual(sent.names, ['evalsha']);
      } finally {
        sent.stop();
      }
    });

    it('takes one round trip for every other method too', async () => {
      const store = createRedisStore({ client: counted, prefix: freshPrefix() });
      const session = makeSession();
      const calls: Array<() => Promise<unknown>> = [
        () => store.createSession(makeSession({ sub: session.sub }), 0),
        () => store.listSessions(session.sub),
        () => store.revokeSessions([randomId()], T0, 'logout', [makeSessionEvent(randomId())]),
        () => store.bumpGeneration(session.sub, { role: 'x' }),
        () => store.revokeAll(T0, [makeSessionEvent(randomId())]),
        () => store.getSubject(session.sub),
        () => store.bumpGeneration(session.sub),
        () => store.setBanned(session.sub, false, T0),
        () => store.appendEvents([makeSessionEvent(randomId())]),
        () => store.readEvents(0, 10),
        () => store.liveEvents(T0),
        () => store.prune(T0, 0),
      ];
      for (const call of calls) await call(); // loads every script
      const sent = recordCommands(counted);
      try {
        for (const [i, call] of calls.entries()) {
          sent.names.length = 0;
          await call();
          assert.deepEqual(sent.names, ['evalsha'], `call #${i}`);
        }
        sent.names.length = 0;
        await store.appendEvents([]);
        await store.revokeSessions([], T0, 'logout', []);
        assert.deepEqual(sent.names, [], 'nothing to do, nothing sent');
      } finally {
        sent.stop();
      }
    });

    it('sends a script whole once, then by its SHA-1, and again whole after NOSCRIPT', async () => {
      const store = createRedisStore({ client: counted, prefix: freshPrefix() });
      const session = makeSession();
      const sent = recordCommands(counted);
      const original = counted.evalsha;
      let forget = 0;
      // A server that has lost its script cache (restart, failover) refuses the SHA-1, running
      // nothing. SCRIPT FLUSH would do it for real, but for every client of the shared server.
      counted.evalsha = function (this: Redis, ...args: Parameters<Redis['evalsha']>) {
        if (forget > 0) {
          forget -= 1;
          return Promise.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
        }
        return original.apply(this, args);
      } as Redis['evalsha'];
      try {
        await store.createSession(session, 0);
        await store.getSession(session.sid);
        // Before its first script, a store reads the server's eviction policy, once.
        assert.deepEqual(sent.names, ['config', 'eval', 'eval']);
        sent.names.length = 0;
        await store.getSession(session.sid);
        assert.deepEqual(sent.names, ['evalsha']);
        sent.names.length = 0;
        forget = 1;
        assert.equal((await store.getSession(session.sid))?.sid, session.sid);
        assert.deepEqual(sent.names, ['eval'], 'the refused evalsha never reached the server');
        const next = makeRotation(session);
        forget = 1;
        assert.equal(
          (await store.rotateRefresh(session.sid, session.refreshHash, 0, next)).status,
          'rotated',
        );
        assert.equal((await store.getSession(session.sid))?.refreshHash, next.refreshHash);
      } finally {
        counted.evalsha = original;
        sent.stop();
      }
    });
  });

  describe('redis store: keys', () => {
    it('keeps a session as a hash of exact strings, null members absent', async () => {
      const { store, prefix } = freshStore();
      const session = makeSession({
        createdAt: T_PRECISE,
        device: '',
        ip: null,
        spentHashes: ['a', 'b'],
      });
      await store.createSession(session, 0);
      const hash = await client.hgetall(`${prefix}session:${session.sid}`);
      assert.equal(hash.createdAt, '1900000000.1234567');
      assert.equal(Number(hash.createdAt), T_PRECISE);
      assert.equal(hash.device, '');
      assert.equal('ip' in hash, false);
      assert.equal('revokedAt' in hash, false);
      assert.deepEqual(JSON.parse(hash.spentHashes ?? ''), ['a', 'b']);
      assert.deepEqual(JSON.parse(hash.claims ?? ''), session.claims);
      assert.deepEqual(await store.getSession(session.sid), { ...session, gen: 0, banned: false });
    });

    it('puts every key under the prefix and stamps the layout version', async () => {
      const { store, prefix } = freshStore();
      const session = makeSession();
      await store.createSession(session, 0);
      await store.bumpGeneration(session.sub);
      await store.revokeSessions([session.sid], T0, 'logout', [makeSessionEvent(session.sid)]);
      assert.deepEqual((await keysOf(prefix)).sort(), [
        `${prefix}ends`,
        `${prefix}layout`,
        `${prefix}log`,
        `${prefix}log:ids`,
        `${prefix}log:seq`,
        `${prefix}log:until`,
        `${prefix}session:${session.sid}`,
        `${prefix}subject:${session.sub}`,
      ]);
      assert.equal(await client.get(`${prefix}layout`), String(REDIS_LAYOUT_VERSION));
      assert.equal(await migrateRedisStore({ client, prefix }), REDIS_LAYOUT_VERSION);
    });

    it('refuses keys of another layout version, writing nothing', async () => {
      const prefix = freshPrefix();
      await client.set(`${prefix}layout`, '3');
      const store = createRedisStore({ client, prefix });
      const session = makeSession();
      const calls: Array<() => Promise<unknown>> = [
        () => store.createSession(session, 0),
        () => store.getSession(session.sid),
        () => store.listSessions(session.sub),
        () => store.rotateRefresh(session.sid, session.refreshHash, 0, makeRotation(session)),
        () => store.revokeSessions([session.sid], T0, 'logout', [makeSessionEvent(session.sid)]),
        () => store.bumpGeneration(session.sub, {}),
        () => store.revokeAll(T0, []),
        () => store.getSubject(session.sub),
        () => store.bumpGeneration(session.sub),
        () => store.setBanned(session.sub, true, T0),
        () => store.appendEvents([makeSessionEvent(randomId())]),
        () => store.readEvents(0, 10),
        () => store.liveEvents(T0),
        () => store.prune(T0, 0),
        () => migrateRedisStore({ client, prefix }),
      ];
      for (const [i, call] of calls.entries()) {
        await assert.rejects(call(), expectCode('ERR_STORE_SCHEMA'), `call #${i}`);
      }
      await assert.rejects(migrateRedisStore({ client, prefix }), /layout version 3/);
      assert.deepEqual(await keysOf(prefix), [`${prefix}layout`]);
    });

    it('refuses data it did not write rather than misreading it', async () => {
      const { store, prefix } = freshStore();
      await migrateRedisStore({ client, prefix });
      const sid = randomId();
      await client.hset(`${prefix}session:${sid}`, 'sid', sid, 'note', 'not a session');
      await assert.rejects(store.getSession(sid), expectCode('ERR_INVALID_ARGUMENT'));
    });
  });

  describe('redis store: expiry', () => {
    it('lets session keys expire after the session ends, moving with rotation and revocation', async () => {
      const { store, prefix } = freshStore({ sessionRetention: 1000 });
      const now = nowSeconds();
      const session = makeSession({
        createdAt: now,
        idleExpiresAt: now + 3600,
        absoluteExpiresAt: now + 86_400,
      });
      await store.createSession(session, 0);
      const key = `${prefix}session:${session.sid}`;
      const index = `${prefix}sessions:${session.sub}`;
      const near = (ttl: number, expected: number) =>
        assert.ok(Math.abs(ttl - expected) <= 3, `ttl ${ttl}, expected about ${expected}`);
      near(await client.ttl(key), 3600 + 1000);
      near(await client.ttl(index), 3600 + 1000);
      const next = { ...makeRotation(session, now), idleExpiresAt: now + 7200 };
      await store.rotateRefresh(session.sid, session.refreshHash, 0, next);
      near(await client.ttl(key), 7200 + 1000);
      near(await client.ttl(index), 7200 + 1000);
      await store.revokeSessions([session.sid], now + 10, 'logout', []);
      near(await client.ttl(key), 10 + 1000);
      // Subjects are kept: a generation must never go back to 0.
      await store.bumpGeneration(session.sub);
      assert.equal(await client.ttl(`${prefix}subject:${session.sub}`), -1);
    });

    it('never keeps a key past the absolute expiry plus retention, however far idle reaches', async () => {
      const { store, prefix } = freshStore({ sessionRetention: 60 });
      const now = nowSeconds();
      const session = makeSession({ idleExpiresAt: now + 7200, absoluteExpiresAt: now + 600 });
      await store.createSession(session, 0);
      const ttl = await client.ttl(`${prefix}session:${session.sid}`);
      assert.ok(ttl > 600 && ttl <= 662, `ttl ${ttl}`);
    });

    it('forgets sessions Redis expired: in lists, claims updates, prune and the index', async () => {
      const { store, prefix } = freshStore({ sessionRetention: 5 });
      const now = nowSeconds();
      const live = makeSession({ idleExpiresAt: now + 3600, absoluteExpiresAt: now + 7200 });
      const gone = makeSession({
        sub: live.sub,
        createdAt: now + 1,
        idleExpiresAt: now + 100,
        absoluteExpiresAt: now + 200,
      });
      await store.createSession(live, 0);
      await store.createSession(gone, 0);
      await client.unlink(`${prefix}session:${gone.sid}`); // as Redis does when its TTL runs out
      assert.deepEqual(
        (await store.listSessions(live.sub)).map((s) => s.sid),
        [live.sid],
      );
      assert.deepEqual(await client.zrange(`${prefix}sessions:${live.sub}`, '0', '-1'), [live.sid]);
      assert.equal(await store.bumpGeneration(live.sub, { role: 'x' }), 1);
      assert.deepEqual((await store.getSession(live.sid))?.claims, { role: 'x' });
      assert.equal(await store.getSession(gone.sid), null);
      assert.equal(
        (await store.rotateRefresh(gone.sid, gone.refreshHash, 0, makeRotation(gone))).status,
        'missing',
      );
      // Prune finds its end in the index, but Redis already deleted it: not counted again.
      assert.deepEqual(await store.prune(now + 150, 0), { sessions: 0, events: 0 });
      assert.equal(await client.zscore(`${prefix}ends`, gone.sid), null);
      // A session that ended longer ago than the retention is gone at once, and its index entry
      // is swept by the next creation.
      const ancient = makeSession({ idleExpiresAt: now - 100, absoluteExpiresAt: now - 50 });
      assert.deepEqual(await store.createSession(ancient, 0), { created: true, gen: 0 });
      assert.equal(await store.getSession(ancient.sid), null);
      assert.equal(await client.zscore(`${prefix}ends`, ancient.sid), null);
      assert.notEqual(await client.zscore(`${prefix}ends`, live.sid), null);
    });

    it('prunes in batches: more than one script run, every count exact', async () => {
      const { store } = freshStore();
      const events = Array.from({ length: 1203 }, (_, i) => makeTokenEvent(T0 + i));
      await store.appendEvents(events);
      const head = (await store.liveEvents(T0)).position;
      const sessions = Array.from({ length: 510 }, () => makeSession({ idleExpiresAt: T0 + 5 }));
      await Promise.all(sessions.map((session) => store.createSession(session, 0)));
      assert.deepEqual(await store.prune(T0 + 2000, 0), { sessions: 510, events: 1203 });
      assert.deepEqual(await store.liveEvents(T0), { events: [], position: head });
    });
  });

  describe('redis store: options and the client', () => {
    it('never quits the client it was given', async () => {
      const { store } = freshStore();
      await store.getSubject('someone');
      await store.close();
      assert.equal(client.status, 'ready');
      assert.equal(await client.ping(), 'PONG');
    });

    it('reads the same over RESP2 and with stringNumbers as over RESP3', async () => {
      const legacy = client.duplicate({ protocol: 2, stringNumbers: true });
      try {
        const prefix = freshPrefix();
        const store = createRedisStore({ client: legacy, prefix });
        const session = makeSession({ createdAt: T_PRECISE });
        assert.deepEqual(await store.createSession(session, 0), { created: true, gen: 0 });
        assert.equal(await store.bumpGeneration(session.sub), 1);
        assert.deepEqual(await store.getSession(session.sid), {
          ...session,
          gen: 1,
          banned: false,
        });
        assert.deepEqual(await store.listSessions(session.sub), [session]);
        const event = makeSessionEvent(session.sid);
        assert.deepEqual(await store.revokeSessions([session.sid], T0, 'logout', [event]), [
          session.sid,
        ]);
        const { position } = await store.liveEvents(T0);
        assert.deepEqual(await store.liveEvents(T0), {
          events: [{ seq: position, event }],
          position,
        });
        assert.deepEqual(await store.readEvents(0, 10), [{ seq: position, event }]);
        assert.deepEqual(await createRedisStore({ client, prefix }).readEvents(0, 10), [
          { seq: position, event },
        ]);
        assert.equal(await store.bumpGeneration(session.sub, {}), 2);
        assert.deepEqual(await store.prune(T0 + 1e6, 0), { sessions: 1, events: 1 });
        assert.deepEqual(await createRedisStore({ client, prefix }).getSubject(session.sub), {
          gen: 2,
          banned: false,
        });
      } finally {
        legacy.disconnect();
      }
    });

    it('refuses what is not an ioredis client, a keyPrefix, a bad prefix or retention', async () => {
      const prefixed = new Redis(REDIS_URL, { lazyConnect: true, keyPrefix: 'app:' });
      const bad: unknown[] = [
        undefined,
        null,
        {},
        { client: {} },
        { client: { eval: () => 1 } },
        { client: prefixed },
        { client, prefix: '' },
        { client, prefix: 7 },
        { client, prefix: 'x'.repeat(257) },
        { client, sessionRetention: -1 },
        { client, sessionRetention: Number.NaN },
        { client, sessionRetention: '60' },
      ];
      for (const [i, options] of bad.entries()) {
        assert.throws(
          () => createRedisStore(options as RedisStoreOptions),
          expectCode('ERR_INVALID_ARGUMENT'),
          `options #${i}`,
        );
      }
      await assert.rejects(
        migrateRedisStore({ client: prefixed }),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      prefixed.disconnect();
    });

    it('on a Cluster, requires a hash tag and defaults to {revocable}:', async () => {
      // A Cluster client as far as the store can tell, recording the keys each script names.
      const named: string[] = [];
      const cluster = {
        isCluster: true,
        config: () => Promise.resolve(['maxmemory-policy', 'noeviction']),
        // The store passes the keys and arguments as one array, which ioredis flattens.
        eval: (_source: string, count: number, argv: string[]) => {
          named.push(...argv.slice(0, count));
          return Promise.resolve(['0', '0']);
        },
        evalsha: () => Promise.reject(new Error('NOSCRIPT')),
      } as unknown as RedisClient;
      for (const prefix of ['revocable:', 'app:{}:', 'app}{x:']) {
        assert.throws(
          () => createRedisStore({ client: cluster, prefix }),
          expectCode('ERR_INVALID_ARGUMENT'),
          prefix,
        );
      }
      await createRedisStore({ client: cluster }).getSubject('someone');
      await createRedisStore({ client: cluster, prefix: 'app:{tenant-1}:' }).getSubject('x');
      assert.deepEqual(named, [
        '{revocable}:layout',
        '{revocable}:epoch',
        '{revocable}:subject:someone',
        'app:{tenant-1}:layout',
        'app:{tenant-1}:epoch',
        'app:{tenant-1}:subject:x',
      ]);
    });
  });

  describe('redis store: two processes', () => {
    it('lets exactly one of 50 rotations from two processes win', { timeout: 60_000 }, async () => {
      const { store, prefix } = freshStore();
      const session: SessionRecord = makeSession();
      await store.createSession(session, 0);
      const args = ['rotate', REDIS_URL, prefix, session.sid, session.refreshHash];
      const outcomes = (await runWorkers([args, args])).flat() as string[];
      assert.equal(outcomes.length, 50);
      assert.equal(outcomes.filter((status) => status === 'rotated').length, 1);
      assert.ok(outcomes.every((status) => status === 'rotated' || status === 'stale'));
      const read = await store.getSession(session.sid);
      assert.equal(read?.previousHash, session.refreshHash);
      assert.notEqual(read?.refreshHash, session.refreshHash);
    });

    it('a rotation in one process racing a revocation in another always ends revoked', {
      timeout: 60_000,
    }, async () => {
      const { store, prefix } = freshStore();
      const sessions = Array.from({ length: 40 }, () => makeSession());
      for (const session of sessions) await store.createSession(session, 0);
      const pairs = JSON.stringify(sessions.map((s) => [s.sid, s.refreshHash]));
      const [rotated, revoked] = (await runWorkers([
        ['rotate-each', REDIS_URL, prefix, pairs],
        ['revoke-each', REDIS_URL, prefix, pairs],
      ])) as [[string, string][], string[][]];
      for (const [i, session] of sessions.entries()) {
        const [status, hash] = rotated[i]!;
        assert.deepEqual(revoked[i], [session.sid]);
        const read = await store.getSession(session.sid);
        assert.equal(read?.revokedAt, 1_900_000_001);
        assert.equal(read?.revokedReason, 'logout');
        if (status === 'rotated') assert.equal(read?.refreshHash, hash);
        else {
          assert.equal(status, 'revoked');
          assert.equal(read?.refreshHash, session.refreshHash);
        }
      }
      const ids = (await store.readEvents(0, 100)).map((stored) => stored.event.target).sort();
      assert.deepEqual(ids, sessions.map((s) => s.sid).sort());
    });
  });
}
