// Redis-specific tests of issue 12's write rules: a creation the driver replays after a reconnect,
// event-id conflicts writing nothing, ids that are not well-formed text, ip and user agent on
// rotation.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { REDIS_URL } from '../support/services.js';
import {
  expectCode,
  makeRotation,
  makeSession,
  makeSessionEvent,
  makeTokenEvent,
  randomId,
  T0,
} from './contract.js';
import { connectSharedRedis, prefixesOn } from './redis-support.js';

const { client, missing } = await connectSharedRedis();
const { keysOf, freshPrefix, freshStore, dropAll } = prefixesOn(client);

after(async () => {
  if (missing !== null) return;
  await dropAll();
  client.disconnect();
});

/**
 * A TCP proxy to the shared Redis that can swallow the next reply from the server: the command
 * has run, and the client never hears of it, as when a connection dies between the two.
 */
async function startProxy(target: URL) {
  let swallowNext = false;
  let swallowed: () => void = () => {};
  const sockets = new Set<Socket>();
  const server = createServer((downstream) => {
    const upstream = tcpConnect(Number(target.port || 6379), target.hostname);
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    downstream.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (swallowNext) {
        swallowNext = false;
        swallowed();
      } else downstream.write(chunk);
    });
    upstream.on('close', () => downstream.destroy());
    downstream.on('close', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    /** Swallows the server's next reply; resolves once it has. */
    swallowNextReply(): Promise<void> {
      swallowNext = true;
      return new Promise<void>((resolve) => {
        swallowed = resolve;
      });
    },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

if (missing !== null) {
  describe('redis store: writes', () => {
    it('needs a Redis server', (t) => t.skip(missing ?? ''));
  });
} else {
  describe('redis store: a creation replayed', () => {
    it('gives created again for the same record, and writes nothing more', async () => {
      const { store, prefix } = freshStore();
      const session = makeSession();
      assert.deepEqual(await store.createSession(session, 0), { created: true, gen: 0 });
      const before = await client.hgetall(`${prefix}session:${session.sid}`);
      assert.deepEqual(await store.createSession(session, 0), { created: true, gen: 0 });
      assert.deepEqual(await client.hgetall(`${prefix}session:${session.sid}`), before);
      assert.deepEqual(await client.zrange(`${prefix}sessions:${session.sub}`, '0', '-1'), [
        session.sid,
      ]);
      // Not the same session: another refresh hash or another subject under the same sid.
      const other = { ...session, refreshHash: randomId() };
      assert.deepEqual(await store.createSession(other, 0), { created: false, reason: 'exists' });
      const stranger = { ...session, sub: `sub-${randomId()}` };
      assert.deepEqual(await store.createSession(stranger, 0), {
        created: false,
        reason: 'exists',
      });
      // A session that has ended is not recreated by a late replay.
      await store.revokeSessions([session.sid], T0, 'logout', []);
      assert.deepEqual(await store.createSession(session, 0), { created: false, reason: 'exists' });
      const ended = makeSession();
      await store.createSession(ended, 0);
      await store.revokeAll(T0, []);
      assert.deepEqual(await store.createSession(ended, 0), { created: false, reason: 'exists' });
    });

    it('survives ioredis replaying the script after CLIENT KILL cut the reply off', async () => {
      const proxy = await startProxy(new URL(REDIS_URL));
      const viaProxy = new Redis(proxy.url, { maxRetriesPerRequest: 3 });
      viaProxy.on('error', () => {});
      try {
        const prefix = freshPrefix();
        const store = createRedisStore({ client: viaProxy, prefix });
        // Loads the script (and reads the eviction policy), so the replayed call is the EVALSHA
        // of the steady state.
        await store.createSession(makeSession(), 0);
        const connectionId = await viaProxy.client('ID');
        const session = makeSession();
        const swallowed = proxy.swallowNextReply();
        const outcome = store.createSession(session, 0);
        await swallowed;
        // The script has run: the session is there, and the client is still waiting for a reply
        // that will never come. Ending its connection is what a network failure would do.
        assert.equal(await client.exists(`${prefix}session:${session.sid}`), 1);
        await client.client('KILL', 'ID', String(connectionId));
        // ioredis reconnects and sends the unanswered command again (autoResendUnfulfilledCommands).
        assert.deepEqual(await outcome, { created: true, gen: 0 });
        assert.notEqual(await viaProxy.client('ID'), connectionId, 'it did reconnect');
        assert.equal((await store.getSession(session.sid))?.refreshHash, session.refreshHash);
        assert.deepEqual(await store.listSessions(session.sub), [
          { ...session, revokedAt: null, revokedReason: null },
        ]);
      } finally {
        viaProxy.disconnect();
        await proxy.close();
      }
    });
  });

  describe('redis store: event conflicts', () => {
    it('refuses an id in the log with other contents, in every appending call, writing nothing', async () => {
      const { store, prefix } = freshStore();
      const first = makeTokenEvent(T0 + 600);
      await store.appendEvents([first]);
      const impostor = { ...makeTokenEvent(T0 + 900), id: first.id };
      const session = makeSession();
      await store.createSession(session, 0);
      const snapshot = async () => ({
        seq: await client.get(`${prefix}log:seq`),
        log: await client.zrange(`${prefix}log`, '0', '-1'),
        session: await client.hgetall(`${prefix}session:${session.sid}`),
        epoch: await client.hgetall(`${prefix}epoch`),
      });
      const before = await snapshot();
      const fresh = makeSessionEvent(session.sid);
      await assert.rejects(
        store.appendEvents([fresh, impostor]),
        expectCode('ERR_STORE_EVENT_CONFLICT'),
      );
      await assert.rejects(
        store.revokeSessions([session.sid], T0, 'logout', [fresh, impostor]),
        expectCode('ERR_STORE_EVENT_CONFLICT'),
      );
      await assert.rejects(
        store.revokeAll(T0, [fresh, impostor]),
        expectCode('ERR_STORE_EVENT_CONFLICT'),
      );
      assert.deepEqual(await snapshot(), before);
      assert.equal((await store.getSession(session.sid))?.revokedAt, null);
      // The same event again is skipped, and the rest of its batch is appended.
      await store.appendEvents([first, fresh]);
      const log = await store.readEvents(0, 10);
      assert.deepEqual(
        log.map((stored) => [stored.seq - log[0]!.seq, stored.event.id]),
        [
          [0, first.id],
          [1, fresh.id],
        ],
      );
    });
  });

  describe('redis store: ids', () => {
    it('refuses lone surrogates and control characters, so user\\ud800 is never user\\ufffd', async () => {
      const { store, prefix } = freshStore();
      const replaced = 'user\ufffd';
      await store.setBanned(replaced, true, T0);
      for (const sub of ['user\ud800', 'user\udc00x', 'user\n1', 'user\u0000', 'user\u009f']) {
        await assert.rejects(store.getSubject(sub), expectCode('ERR_INVALID_ARGUMENT'));
        await assert.rejects(store.setBanned(sub, false, T0), expectCode('ERR_INVALID_ARGUMENT'));
        await assert.rejects(store.bumpGeneration(sub), expectCode('ERR_INVALID_ARGUMENT'));
        await assert.rejects(
          store.createSession(makeSession({ sub }), 0),
          expectCode('ERR_INVALID_ARGUMENT'),
        );
        await assert.rejects(store.getSession(sub), expectCode('ERR_INVALID_ARGUMENT'));
      }
      // The ban of the one that exists is where it was put, and untouched.
      assert.deepEqual(await store.getSubject(replaced), { gen: 0, banned: true });
      assert.deepEqual((await keysOf(prefix)).sort(), [
        `${prefix}layout`,
        `${prefix}subject:${replaced}`,
      ]);
      // A well-formed astral character is an ordinary id.
      const astral = 'user\ud83c\udfae';
      await store.setBanned(astral, true, T0);
      assert.deepEqual(await store.getSubject(astral), { gen: 0, banned: true });
      assert.deepEqual(await store.getSubject('user'), { gen: 0, banned: false });
    });
  });

  describe('redis store: mass revocations', () => {
    it('takes 150,000 sids and their events in one call (a ban wave), as one script', async () => {
      const { store } = freshStore();
      const live = makeSession();
      await store.createSession(live, 0);
      const sids = Array.from({ length: 150_000 }, (_, i) => `wave-${i}`);
      sids.push(live.sid);
      const events = [makeSessionEvent(live.sid)];
      assert.deepEqual(await store.revokeSessions(sids, T0, 'ban', events), [live.sid]);
      const many = Array.from({ length: 150_000 }, (_, i) => makeSessionEvent(`gone-${i}`));
      await store.appendEvents(many);
      assert.equal((await store.readEvents(0, 200_000)).length, 150_001);
    });
  });

  describe('redis store: rotation', () => {
    it('writes the ip and user agent a rotation saw, and keeps them for null', async () => {
      const { store, prefix } = freshStore();
      const session = makeSession({ ip: '192.0.2.1', userAgent: 'old' });
      await store.createSession(session, 0);
      const first = { ...makeRotation(session), ip: '198.51.100.7', userAgent: '' };
      assert.equal(
        (await store.rotateRefresh(session.sid, session.refreshHash, 0, first)).status,
        'rotated',
      );
      const key = `${prefix}session:${session.sid}`;
      assert.deepEqual(await client.hmget(key, 'ip', 'userAgent'), ['198.51.100.7', '']);
      const read = await store.getSession(session.sid);
      assert.equal(read?.ip, '198.51.100.7');
      assert.equal(read?.userAgent, '');
      const second = {
        ...makeRotation(session),
        previousHash: first.refreshHash,
        ip: null,
        userAgent: null,
      };
      assert.equal(
        (await store.rotateRefresh(session.sid, first.refreshHash, 0, second)).status,
        'rotated',
      );
      assert.deepEqual(await client.hmget(key, 'ip', 'userAgent'), ['198.51.100.7', '']);
      // A generation other than the expected one writes nothing.
      await store.bumpGeneration(session.sub);
      const third = {
        ...makeRotation(session),
        previousHash: second.refreshHash,
        ip: '203.0.113.9',
      };
      assert.deepEqual(await store.rotateRefresh(session.sid, second.refreshHash, 0, third), {
        status: 'changed',
      });
      assert.deepEqual(await client.hmget(key, 'ip', 'refreshHash'), [
        '198.51.100.7',
        second.refreshHash,
      ]);
    });
  });
}
