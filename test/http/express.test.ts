import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type ErrorCode, RevocableError } from '../../src/errors/index.js';
import {
  createTokenGuard,
  errorAnswer,
  revocableExpress,
  type TokenGuard,
} from '../../src/http/express/index.js';
import { describeMiddlewareSuite } from './middleware-suite.js';
import { keyOptions, listen, newWorld, send, type World } from './support.js';

function authJson(req: Request, res: Response): void {
  const auth = req.auth;
  res.json(
    auth === undefined
      ? null
      : { sub: auth.sub, sid: auth.sid, roles: auth.roles, scopes: auth.scopes, via: auth.via },
  );
}

describeMiddlewareSuite('Express', async (mounts) => {
  const app = express();
  for (const [prefix, options] of Object.entries(mounts)) {
    const auth = revocableExpress(options);
    app.get(`/${prefix}/me`, auth.authenticate(), authJson);
    app.post(`/${prefix}/me`, auth.authenticate(), authJson);
    app.get(`/${prefix}/admin`, auth.authenticate({ roles: ['admin', 'root'] }), authJson);
    app.get(`/${prefix}/write`, auth.authenticate({ scopes: ['write'] }), authJson);
    app.get(`/${prefix}/recent`, auth.authenticate({ maxAge: '15m' }), authJson);
    app.get(`/${prefix}/strict`, auth.authenticate({ checkStore: true }), authJson);
  }
  return listen(app);
});

describe('revocableExpress', () => {
  let world: World;
  let base = '';
  let close = async () => {};
  const passed: unknown[] = [];

  before(async () => {
    world = newWorld();
    const app = express();
    const guard = createTokenGuard(keyOptions(world));
    // A guard given as it is, as { guard }, and with passError.
    app.get('/plain', revocableExpress(guard).authenticate(), authJson);
    app.get('/shared', revocableExpress({ guard, realm: 'shared' }).authenticate(), authJson);
    app.get('/pass', revocableExpress({ guard, passError: true }).authenticate(), authJson);
    // The form docs/http.md shows: the guard, then the adapter's options.
    app.get('/pass-second', revocableExpress(guard, { passError: true }).authenticate(), authJson);
    app.get('/realm-second', revocableExpress(guard, { realm: 'second' }).authenticate(), authJson);
    const broken: TokenGuard = {
      ...guard,
      checkFast: () => {
        throw new TypeError('a bug');
      },
    };
    app.get('/broken', revocableExpress(broken).authenticate(), authJson);
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      passed.push(error);
      const { status, headers, body } = errorAnswer(error, { realm: 'handler' });
      res.status(status).set(headers).json(body);
    });
    ({ base, close } = await listen(app));
  });

  after(() => close());

  it('takes a guard, or { guard } with a realm', async () => {
    const { token } = await world.login('user-1');
    assert.equal((await send(base, '/plain', { authorization: `Bearer ${token}` })).status, 200);
    const refused = await send(base, '/shared');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['www-authenticate'], 'Bearer realm="shared"');
    assert.equal(
      (await send(base, '/plain')).headers['www-authenticate'],
      'Bearer realm="revocable"',
    );
  });

  it('hands refusals to next(error) with passError', async () => {
    const answer = await send(base, '/pass');
    assert.equal(answer.status, 401);
    assert.equal(answer.headers['www-authenticate'], 'Bearer realm="handler"');
    assert.ok(passed.at(-1) instanceof RevocableError);
  });

  it('takes the adapter options as a second argument, after a guard (as docs/http.md writes it)', async () => {
    const before = passed.length;
    const answer = await send(base, '/pass-second');
    assert.equal(answer.status, 401);
    // Answered by the app's handler (its realm), not by the middleware.
    assert.equal(answer.headers['www-authenticate'], 'Bearer realm="handler"');
    assert.equal(passed.length, before + 1);
    assert.ok(passed.at(-1) instanceof RevocableError);
    const realm = await send(base, '/realm-second');
    assert.equal(realm.headers['www-authenticate'], 'Bearer realm="second"');
  });

  it("hands an error that is not revocable's to next(error): a 500 that tells nothing", async () => {
    const answer = await send(base, '/broken');
    assert.equal(answer.status, 500);
    assert.equal(answer.body.error, 'ERR_SERVER_INTERNAL');
    assert.ok(passed.at(-1) instanceof TypeError);
  });

  it('refuses bad options at once', () => {
    const invalid = (error: unknown) =>
      error instanceof RevocableError && error.code === 'ERR_INVALID_ARGUMENT';
    assert.throws(() => revocableExpress({ ...keyOptions(world), realm: 'a"b' }), invalid);
    const guard = createTokenGuard(keyOptions(world));
    assert.throws(() => revocableExpress({ guard, cookie: false } as never), invalid);
    assert.throws(() => revocableExpress(guard).authenticate({ roles: [] }), invalid);
    // Adapter options given twice, or options it does not know, are refused rather than ignored.
    assert.throws(() => revocableExpress(guard, { passError: 'yes' } as never), invalid);
    assert.throws(() => revocableExpress(guard, { preflight: 'allow' } as never), invalid);
    assert.throws(() => revocableExpress({ guard, preflight: true } as never), invalid);
    assert.throws(() => revocableExpress(guard, { realm: 'a"b' }), invalid);
    assert.throws(() => revocableExpress(guard, { cookie: false } as never), invalid);
    assert.throws(() => revocableExpress(guard, null as never), invalid);
    assert.throws(() => revocableExpress({ guard, realm: 'one' }, { realm: 'two' }), invalid);
  });
});

describe('revocableExpress in front of every route (app.use)', () => {
  // What a browser sends before a cross-origin GET with an Authorization header: no credentials.
  const PREFLIGHT = {
    origin: 'https://app.example',
    'access-control-request-method': 'GET',
    'access-control-request-headers': 'authorization',
  };

  it('answers a CORS preflight 204 itself: no handler behind it runs for no one', async () => {
    const world = newWorld();
    const app = express();
    let ran = 0;
    // A CORS middleware in front that sets its headers and hands the preflight on.
    app.use((_req: Request, res: Response, next: NextFunction) => {
      res.set('access-control-allow-origin', 'https://app.example');
      next();
    });
    const auth = revocableExpress(createTokenGuard(keyOptions(world)));
    app.all('/admin/flush', auth.authenticate({ roles: ['admin'] }), (_req, res) => {
      ran++;
      res.json({ flushed: true });
    });
    app.use(auth.authenticate());
    app.options('/me', (_req: Request, res: Response) => {
      ran++;
      res.status(200).end();
    });
    const { base, close } = await listen(app);
    try {
      for (const path of ['/admin/flush', '/me']) {
        const preflight = await send(base, path, PREFLIGHT, 'OPTIONS');
        assert.equal(preflight.status, 204, path);
        assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
      }
      assert.equal(ran, 0);
      assert.equal((await send(base, '/admin/flush', {}, 'OPTIONS')).status, 401);
    } finally {
      await close();
    }
  });

  it("with preflight: 'pass', lets a CORS preflight through with no req.auth, and nothing else without a token", async () => {
    const world = newWorld();
    const app = express();
    app.use(
      revocableExpress(createTokenGuard(keyOptions(world)), { preflight: 'pass' }).authenticate(),
    );
    app.options('/me', (req: Request, res: Response) => {
      res.status(204).set('x-auth', String(req.auth)).set('access-control-allow-origin', '*').end();
    });
    app.get('/me', authJson);
    const { base, close } = await listen(app);
    try {
      const preflight = await send(base, '/me', PREFLIGHT, 'OPTIONS');
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers['x-auth'], 'undefined');
      // An OPTIONS that is no preflight, and the GET itself, still need a token.
      assert.equal((await send(base, '/me', {}, 'OPTIONS')).status, 401);
      assert.equal((await send(base, '/me')).status, 401);
      const { token } = await world.login('user-1');
      const me = await send(base, '/me', { authorization: `Bearer ${token}` });
      assert.equal(me.body.sub, 'user-1');
    } finally {
      await close();
    }
  });
});

describe('revocableExpress: a refusal that comes after the store was asked', () => {
  let world: World;
  let base = '';
  let close = async () => {};
  const handled: { error: unknown; headersSent: boolean }[] = [];

  before(async () => {
    world = newWorld();
    const app = express();
    // A store of the application's own: slow, or failing with a code revocable does not know.
    const slow = revocableExpress({
      ...keyOptions(world),
      store: {
        getSession: async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return null;
        },
      },
    });
    const odd = revocableExpress({
      ...keyOptions(world),
      store: {
        getSession: async () => {
          throw new RevocableError('ERR_STORE_TIMEOUT' as ErrorCode, 'pool db-7 timed out');
        },
      },
    });
    // What a request-timeout middleware does: answer on its own once the request takes too long.
    const timeout = (_req: Request, res: Response, next: NextFunction) => {
      setTimeout(() => {
        if (!res.headersSent) res.status(503).json({ error: 'timeout' });
      }, 20);
      next();
    };
    app.get('/slow', timeout, slow.authenticate({ checkStore: true }), authJson);
    app.get('/odd', odd.authenticate({ checkStore: true }), authJson);
    app.get('/me', slow.authenticate(), authJson);
    app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
      handled.push({ error, headersSent: res.headersSent });
      if (res.headersSent) {
        next(error);
        return;
      }
      const { status, headers, body } = errorAnswer(error);
      res.status(status).set(headers).json(body);
    });
    ({ base, close } = await listen(app));
  });

  after(() => close());

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('leaves a response another middleware sent meanwhile alone, and the process lives on', async () => {
    const { token } = await world.login('user-1');
    const answer = await send(base, '/slow', bearer(token));
    assert.equal(answer.status, 503);
    assert.deepEqual(answer.body, { error: 'timeout' });
    // The refusal arrives after the timeout's answer: handed to the app, not written over it.
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(handled.length, 1);
    assert.equal(handled[0]?.headersSent, true);
    assert.ok(handled[0]?.error instanceof RevocableError);
    assert.equal((await send(base, '/me', bearer(token))).status, 200);
  });

  it('hands a RevocableError whose code has no status to next(error), as any bug, and the process lives on', async () => {
    const { token } = await world.login('user-1');
    const answer = await send(base, '/odd', bearer(token));
    assert.equal(answer.status, 500);
    assert.equal(answer.body.error, 'ERR_SERVER_INTERNAL');
    assert.ok(!JSON.stringify(answer.body).includes('db-7'));
    assert.equal(handled.at(-1)?.headersSent, false);
    assert.equal((await send(base, '/me', bearer(token))).status, 200);
  });
});
