// Existing express-jwt and @fastify/jwt set-ups keep their verifiers and add revocable's index.
// HS256 with a shared secret is enough here: the check is on claims, after their verify.
import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import fastifyJwt from '@fastify/jwt';
import express, { type NextFunction, type Request, type Response } from 'express';
import { expressjwt } from 'express-jwt';
import Fastify from 'fastify';
import jwt from 'jsonwebtoken';
import { isRevocableError } from '../../src/errors/index.js';
import { createRevocationCheck, expressJwtIsRevoked } from '../../src/http/express/index.js';
import { fastifyJwtTrusted } from '../../src/http/fastify/index.js';
import {
  createKeyRevocation,
  createRevocationIndex,
  createSessionRevocation,
  type RevocationIndex,
} from '../../src/revocation/index.js';
import { listen, send } from './support.js';

const SECRET = 'a shared secret of the HS256 peers, long enough';
const timing = { maxAccessTokenLifetime: '10m' };

function sign(claims: Record<string, unknown>, keyid = 'k1', expiresIn: number = 600): string {
  return jwt.sign({ jti: `j-${Math.random()}`, ...claims }, SECRET, {
    algorithm: 'HS256',
    expiresIn,
    keyid,
  });
}

/** An error handler that answers the error's status (500 without one) and its code. */
function answerError(
  error: { status?: number; code?: string },
  _req: Request,
  res: Response,
  _next: NextFunction,
): void {
  res.status(error.status ?? 500).json({ code: error.code });
}

describe('expressJwtIsRevoked: express-jwt 8 with the index', () => {
  let index: RevocationIndex;
  let base = '';
  let close = async () => {};

  before(async () => {
    index = createRevocationIndex(timing);
    const app = express();
    app.get(
      '/me',
      expressjwt({ secret: SECRET, algorithms: ['HS256'], isRevoked: expressJwtIsRevoked(index) }),
      (req: Request, res: Response) => {
        res.json({ sub: (req as unknown as { auth: { sub: string } }).auth.sub });
      },
    );
    app.use(answerError);
    ({ base, close } = await listen(app));
  });

  after(() => close());

  const get = (token: string) => send(base, '/me', { authorization: `Bearer ${token}` });

  it('lets a live token through and refuses one whose session was revoked', async () => {
    const token = sign({ sub: 'user-1', sid: 'session-1' });
    assert.deepEqual((await get(token)).body, { sub: 'user-1' });
    index.apply(createSessionRevocation({ sid: 'session-1' }, timing));
    const refused = await get(token);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.code, 'revoked_token');
  });

  it("refuses a retired key's tokens, and tokens the index cannot vouch for", async () => {
    index.apply(createKeyRevocation({ kid: 'k-old' }, timing));
    assert.equal((await get(sign({ sub: 'user-2' }, 'k-old'))).status, 401);
    assert.equal((await get(sign({ sub: 'user-2' }, 'k1'))).status, 200);
    // Longer-lived than the index remembers a revocation: it could come back to life.
    assert.equal((await get(sign({ sub: 'user-2' }, 'k1', 3600))).body.code, 'revoked_token');
  });
});

describe('the peer adapters on an index whose source has gone silent (docs/http.md)', () => {
  it('answer 503 ERR_REVOCATION_STALE past the maxStaleness they are given, not "revoked"; without it staleness is not checked', async () => {
    let now = Date.now() / 1000;
    const index = createRevocationIndex({ ...timing, now: () => now });
    index.markFresh(now);
    const app = express();
    const bounded = expressJwtIsRevoked(index, { maxStaleness: 5 });
    app.get('/bounded', expressjwt({ secret: SECRET, algorithms: ['HS256'], isRevoked: bounded }));
    // On purpose here, and said when made (test/http/staleness-warning.test.ts).
    const warned = mock.method(process, 'emitWarning', () => {});
    const unbounded = expressJwtIsRevoked(index);
    warned.mock.restore();
    assert.equal(warned.mock.callCount(), 1);
    app.get(
      '/unbounded',
      expressjwt({ secret: SECRET, algorithms: ['HS256'], isRevoked: unbounded }),
    );
    app.use((_req: Request, res: Response) => {
      res.json({ ok: true });
    });
    app.use(answerError);
    const { base, close } = await listen(app);
    try {
      const token = sign({ sub: 'user-1', sid: 'session-1' });
      const headers = { authorization: `Bearer ${token}` };
      assert.equal((await send(base, '/bounded', headers)).status, 200);
      now += 60; // a minute without a word from the source
      // A stale index is no revocation: the client is told to try again, not that it is logged out.
      const stale = await send(base, '/bounded', headers);
      assert.equal(stale.status, 503);
      assert.equal(stale.body.code, 'ERR_REVOCATION_STALE');
      assert.equal((await send(base, '/unbounded', headers)).status, 200);
      const trusted = fastifyJwtTrusted(index, { maxStaleness: 5 });
      const claims = jwt.decode(token) as Record<string, unknown>;
      await assert.rejects(
        Promise.resolve(trusted(null, claims)),
        (error: unknown) =>
          isRevocableError(error, 'ERR_REVOCATION_STALE') &&
          (error as { statusCode?: unknown }).statusCode === 503,
      );
      assert.equal(
        fastifyJwtTrusted(index, { maxStaleness: 5, onStale: 'allow' })(null, claims),
        true,
      );
      // Through @fastify/jwt: its error handler answers the error's statusCode.
      const app2 = Fastify();
      await app2.register(fastifyJwt, { secret: SECRET, trusted });
      app2.get('/me', { onRequest: (request) => request.jwtVerify() }, async () => ({ ok: true }));
      const answer = await app2.inject({ url: '/me', headers });
      assert.equal(answer.statusCode, 503);
      assert.equal(answer.json().code, 'ERR_REVOCATION_STALE');
      await app2.close();
    } finally {
      await close();
    }
  });
});

describe('createRevocationCheck: a sub, sid or jti that is not a string', () => {
  it('is refused, since no revocation (kept by string) could reach it', () => {
    const index = createRevocationIndex(timing);
    const now = Math.floor(Date.now() / 1000);
    const times = { iat: now, exp: now + 60 };
    const isRevoked = createRevocationCheck(index);
    assert.equal(isRevoked({ sub: 'user-1', sid: 's-1', jti: 't-1', ...times }), false);
    assert.equal(isRevoked({ ...times }), false);
    for (const odd of [{ sub: 42 }, { sid: 7 }, { jti: 99 }, { sub: null }, { sub: ['a'] }]) {
      assert.equal(isRevoked({ ...times, ...odd }), true, JSON.stringify(odd));
      assert.equal(fastifyJwtTrusted(index)(null, { ...times, ...odd }), false);
      assert.equal(expressJwtIsRevoked(index)(null, { payload: { ...times, ...odd } }), true);
    }
  });
});

describe('fastifyJwtTrusted: @fastify/jwt with the index', () => {
  it('reads claims that happen to carry header and payload members as the claims', () => {
    const index = createRevocationIndex(timing);
    index.apply(createSessionRevocation({ sid: 'session-1' }, timing));
    const now = Math.floor(Date.now() / 1000);
    const times = { iat: now, exp: now + 60 };
    // verify.complete off: @fastify/jwt hands the claims, here with members named like the parts
    // of verify.complete's { header, payload, signature, input }; the revoked sid is the claims'.
    const claims = {
      sub: 'user-1',
      sid: 'session-1',
      ...times,
      header: { alg: 'HS256' },
      payload: { sub: 'user-1', sid: 'session-2', ...times },
    };
    assert.equal(fastifyJwtTrusted(index)(null, claims), false);
    // All three parts among the claims, the nested payload naming a live session: still claims.
    assert.equal(fastifyJwtTrusted(index)(null, { ...claims, signature: 'x' }), false);
    // verify.complete on: the payload is read, with the header's kid.
    const complete = {
      header: { alg: 'HS256', kid: 'k1' },
      payload: claims,
      signature: 's',
      input: 'i',
    };
    assert.equal(fastifyJwtTrusted(index)(null, complete), false);
    const live = { ...complete, payload: { sub: 'user-1', sid: 'session-2', ...times } };
    assert.equal(fastifyJwtTrusted(index)(null, live), true);
  });

  for (const complete of [false, true]) {
    it(`refuses a revoked token (verify.complete: ${complete})`, async () => {
      const index = createRevocationIndex(timing);
      const app = Fastify();
      await app.register(fastifyJwt, {
        secret: SECRET,
        ...(complete ? { verify: { complete: true } } : {}),
        trusted: fastifyJwtTrusted(index),
      });
      app.get('/me', { onRequest: (request) => request.jwtVerify() }, async () => ({ ok: true }));
      const get = (token: string) =>
        app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
      const token = sign({ sub: 'user-1', sid: 'session-1' });
      assert.equal((await get(token)).statusCode, 200);
      index.apply(createSessionRevocation({ sid: 'session-1' }, timing));
      const refused = await get(token);
      assert.equal(refused.statusCode, 401);
      assert.equal(refused.json().code, 'FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED');
      // The key rule needs the header: only with verify.complete.
      index.apply(createKeyRevocation({ kid: 'k-old' }, timing));
      assert.equal((await get(sign({ sub: 'user-2' }, 'k-old'))).statusCode, complete ? 401 : 200);
      await app.close();
    });
  }
});
