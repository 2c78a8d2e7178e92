import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { type ErrorCode, isRevocableError, RevocableError } from '../../src/errors/index.js';
import { createTokenGuard, errorAnswer, revocablePlugin } from '../../src/http/fastify/index.js';
import { describeMiddlewareSuite } from './middleware-suite.js';
import { keyOptions, newWorld, send } from './support.js';

function authJson(request: FastifyRequest) {
  const auth = request.auth;
  return auth === null
    ? null
    : { sub: auth.sub, sid: auth.sid, roles: auth.roles, scopes: auth.scopes, via: auth.via };
}

describeMiddlewareSuite('Fastify', async (mounts) => {
  const app = Fastify({
    // Big enough for the 20 KB header test; repeated Authorization headers joined (see listen()).
    serverFactory: (handler) =>
      createServer({ maxHeaderSize: 64 * 1024, joinDuplicateHeaders: true }, handler),
  });
  for (const [prefix, options] of Object.entries(mounts)) {
    await app.register(
      async (scope) => {
        await scope.register(revocablePlugin, options);
        const { authenticate } = scope.revocable;
        scope.get('/me', { onRequest: authenticate() }, authJson);
        scope.post('/me', { onRequest: authenticate() }, authJson);
        scope.get('/admin', { onRequest: authenticate({ roles: ['admin', 'root'] }) }, authJson);
        scope.get('/write', { preHandler: authenticate({ scopes: ['write'] }) }, authJson);
        scope.get('/recent', { onRequest: authenticate({ maxAge: '15m' }) }, authJson);
        scope.get('/strict', { onRequest: authenticate({ checkStore: true }) }, authJson);
      },
      { prefix: `/${prefix}` },
    );
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { base: `http://127.0.0.1:${address.port}`, close: () => app.close() };
});

describe('revocablePlugin', () => {
  it('decorates every request with auth, null until a hook accepts a token', async () => {
    const world = newWorld();
    const app = Fastify();
    await app.register(revocablePlugin, { guard: createTokenGuard(keyOptions(world)) });
    app.get('/open', async (request) => ({ auth: request.auth }));
    app.get('/me', { onRequest: app.revocable.authenticate() }, async (request) => ({
      sub: request.auth?.sub,
    }));
    const { token } = await world.login('user-1');
    const open = await app.inject({ url: '/open', headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(open.json(), { auth: null });
    const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(me.json(), { sub: 'user-1' });
    await app.close();
  });

  it("hands an error that is not revocable's to Fastify's error handler", async () => {
    const world = newWorld();
    const guard = createTokenGuard(keyOptions(world));
    const app = Fastify();
    await app.register(revocablePlugin, {
      guard: {
        ...guard,
        checkFast: () => {
          throw new TypeError('a bug');
        },
      },
    });
    app.get('/me', { onRequest: app.revocable.authenticate() }, async () => 'never');
    const answer = await app.inject({ url: '/me' });
    assert.equal(answer.statusCode, 500);
    await app.close();
  });

  it("hands a RevocableError whose code has no status to Fastify's error handler, and the process lives on", async () => {
    const world = newWorld();
    const app = Fastify();
    await app.register(revocablePlugin, {
      ...keyOptions(world),
      // A store of the application's own, failing with a code revocable does not know.
      store: {
        getSession: async () => {
          throw new RevocableError('ERR_STORE_TIMEOUT' as ErrorCode, 'pool db-7 timed out');
        },
      },
    });
    const seen: unknown[] = [];
    app.setErrorHandler((error, _request, reply) => {
      seen.push(error);
      void reply.code(500).send({ error: 'ERR_SERVER_INTERNAL' });
    });
    app.get('/strict', { onRequest: app.revocable.authenticate({ checkStore: true }) }, authJson);
    app.get('/me', { onRequest: app.revocable.authenticate() }, authJson);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = app.server.address();
      assert.ok(address !== null && typeof address === 'object');
      const base = `http://127.0.0.1:${address.port}`;
      const { token } = await world.login('user-1');
      const answer = await send(base, '/strict', { authorization: `Bearer ${token}` });
      assert.equal(answer.status, 500);
      assert.ok(seen.at(-1) instanceof RevocableError);
      const me = await send(base, '/me', { authorization: `Bearer ${token}` });
      assert.equal(me.status, 200);
    } finally {
      await app.close();
    }
  });

  it("with passError, hands refusals to the app's error handler, which answers with errorAnswer", async () => {
    const world = newWorld();
    const app = Fastify();
    await app.register(revocablePlugin, { ...keyOptions(world), passError: true });
    app.setErrorHandler((error, _request, reply) => {
      const { status, headers, body } = errorAnswer(error);
      void reply
        .code(status)
        .headers(headers)
        .send({ ...body, handledBy: 'app' });
    });
    app.get('/admin', { onRequest: app.revocable.authenticate({ roles: ['admin'] }) }, authJson);
    const { token } = await world.login('user-1');
    const anonymous = await app.inject({ url: '/admin' });
    assert.equal(anonymous.statusCode, 401);
    assert.deepEqual(
      { error: anonymous.json().error, handledBy: anonymous.json().handledBy },
      { error: 'ERR_AUTH_REQUIRED', handledBy: 'app' },
    );
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer realm="revocable"/);
    const forbidden = await app.inject({
      url: '/admin',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json().handledBy, 'app');
    await app.close();
  });

  it('answers a CORS preflight 204 itself: the route handler never runs for no one', async () => {
    const world = newWorld();
    const app = Fastify();
    // Fastify's own register options are no options of the guard.
    await app.register(revocablePlugin, { ...keyOptions(world), logLevel: 'warn' } as never);
    let ran = 0;
    app.addHook('onRequest', async (_request, reply) => {
      void reply.header('access-control-allow-origin', 'https://app.example');
    });
    app.route({
      method: ['GET', 'POST', 'OPTIONS'],
      url: '/admin/flush',
      onRequest: app.revocable.authenticate({ roles: ['admin'] }),
      handler: async () => {
        ran++;
        return { flushed: true };
      },
    });
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/admin/flush',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(ran, 0);
    assert.equal((await app.inject({ method: 'OPTIONS', url: '/admin/flush' })).statusCode, 401);
    await app.close();
  });

  it("with preflight: 'pass', as a hook of every route, lets a CORS preflight through with request.auth null", async () => {
    const world = newWorld();
    const app = Fastify();
    await app.register(revocablePlugin, { ...keyOptions(world), preflight: 'pass' });
    app.addHook('onRequest', app.revocable.authenticate());
    app.options('/me', async (request, reply) => {
      void reply.code(204).header('x-auth', String(request.auth));
    });
    app.get('/me', authJson);
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/me',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['x-auth'], 'null');
    assert.equal((await app.inject({ method: 'OPTIONS', url: '/me' })).statusCode, 401);
    assert.equal((await app.inject({ url: '/me' })).statusCode, 401);
    await app.close();
  });

  it('refuses bad options when registered', async () => {
    const world = newWorld();
    for (const bad of [{ realm: 'a\\b' }, { passError: 'yes' }, { preflight: 'allow' }]) {
      const app = Fastify();
      await assert.rejects(
        async () => {
          await app.register(revocablePlugin, { ...keyOptions(world), ...bad } as never);
          await app.ready();
        },
        (error: unknown) => (error as { code?: string }).code === 'ERR_INVALID_ARGUMENT',
        JSON.stringify(bad),
      );
    }
  });

  it('refuses a second registration in the same app, in any scope, with a typed error', async () => {
    const world = newWorld();
    for (const second of [
      (app: FastifyInstance) => app.register(revocablePlugin, keyOptions(world)),
      (app: FastifyInstance) =>
        app.register(async (scope) => {
          await scope.register(revocablePlugin, keyOptions(world));
        }),
    ]) {
      const app = Fastify();
      await app.register(revocablePlugin, keyOptions(world));
      await assert.rejects(
        async () => {
          await second(app);
          await app.ready();
        },
        (error: unknown) =>
          isRevocableError(error, 'ERR_INVALID_ARGUMENT') &&
          /already registered/.test(error.message),
      );
      await app.close();
    }
  });
});
