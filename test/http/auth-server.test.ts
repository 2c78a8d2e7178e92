// End to end: tokens and cookies of a real auth server process (`revocable serve`), accepted and
// refused by the Express middleware of a resource server that has only the server's public keys,
// its revocation feed and (for checkStore) its SQLite database.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import express, { type Request, type Response } from 'express';
import { revocableExpress } from '../../src/http/express/index.js';
import { KeyRing } from '../../src/jwt/index.js';
import {
  createRevocationIndex,
  parseRevocationEvent,
  type RevocationIndex,
} from '../../src/revocation/index.js';
import {
  createSqliteStore,
  openSqliteDatabase,
  type SqliteDatabase,
} from '../../src/stores/sqlite/index.js';
import {
  call,
  removeDataDirs,
  type ServerProcess,
  startServerProcess,
} from '../server/server-process.js';
import { listen, send } from './support.js';

const ISSUER = 'https://auth.test';

function authJson(req: Request, res: Response): void {
  res.json({ sub: req.auth?.sub, via: req.auth?.via });
}

describe('the middleware in front of tokens of a real auth server', () => {
  let server: ServerProcess;
  let index: RevocationIndex;
  let database: SqliteDatabase;
  let base = '';
  let close = async () => {};

  // What a feed follower does, by hand: apply every live event of the server's log.
  async function catchUp(): Promise<void> {
    const snapshot = await call(server.url, 'GET', '/revocations');
    for (const event of snapshot.body.events as unknown[]) index.apply(parseRevocationEvent(event));
  }

  async function login(username: string, mode?: 'cookie') {
    const password = 'correct horse';
    const registered = await call(server.url, 'POST', '/auth/register', {
      json: { username, password },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const answer = await call(server.url, 'POST', '/auth/login', {
      json: { username, password, ...(mode === undefined ? {} : { mode }) },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const jar = answer.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    return { body: answer.body, jar };
  }

  before(async () => {
    server = await startServerProcess({ args: ['--issuer', ISSUER, '--fingerprint'] });
    const jwks = await call(server.url, 'GET', '/.well-known/jwks.json');
    index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
    await catchUp();
    database = openSqliteDatabase(join(server.dataDir, 'revocable.db'));
    const auth = revocableExpress({
      keys: KeyRing.fromJSON(jwks.body),
      index,
      issuer: ISSUER,
      audience: 'revocable',
      store: createSqliteStore({ database }),
      // The server runs with --cookie-secure=false in the tests: cookies without __Host-.
      cookie: 'revocable-access',
    });
    const app = express();
    app.get('/me', auth.authenticate(), authJson);
    app.post('/me', auth.authenticate(), authJson);
    app.get('/strict', auth.authenticate({ checkStore: true }), authJson);
    ({ base, close } = await listen(app));
  });

  after(async () => {
    await close();
    database?.close();
    await server?.stop();
    removeDataDirs();
  });

  it('accepts a bearer token with its fingerprint cookie, refuses it without', async () => {
    const { body, jar } = await login('alice');
    const authorization = `Bearer ${body.access_token}`;
    const accepted = await send(base, '/me', { authorization, cookie: jar });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.via, 'bearer');
    const refused = await send(base, '/me', { authorization });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'ERR_FINGERPRINT_MISMATCH');
  });

  it("accepts cookie mode's cookies, with the server's CSRF token on a POST", async () => {
    const { body, jar } = await login('bob', 'cookie');
    const read = await send(base, '/me', { cookie: jar });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.via, 'cookie');
    assert.equal((await send(base, '/me', { cookie: jar }, 'POST')).body.error, 'ERR_CSRF');
    const write = await send(base, '/me', { cookie: jar, 'x-csrf-token': body.csrf_token }, 'POST');
    assert.equal(write.status, 200, JSON.stringify(write.body));
  });

  it('refuses a token logged out at the server: at once with checkStore, then by the feed', async () => {
    const { body, jar } = await login('carol');
    const headers = { authorization: `Bearer ${body.access_token}`, cookie: jar };
    assert.equal((await send(base, '/strict', headers)).status, 200);
    const out = await call(server.url, 'POST', '/auth/logout', {
      token: body.access_token,
      cookies: jar,
    });
    assert.equal(out.status, 200, JSON.stringify(out.body));
    assert.equal((await send(base, '/strict', headers)).body.error, 'ERR_SESSION_REVOKED');
    assert.equal((await send(base, '/me', headers)).status, 200, 'the index has not heard yet');
    await catchUp();
    const refused = await send(base, '/me', headers);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'ERR_TOKEN_REVOKED');
  });
});
