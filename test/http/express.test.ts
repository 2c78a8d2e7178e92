import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { RevocableError } from '../../src/errors/index.js';
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
  });
});
