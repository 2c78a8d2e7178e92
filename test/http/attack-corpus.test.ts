// The JWT attack corpus of test/jwt/attack-corpus.test.ts sent over HTTP: to the Express and the
// Fastify middleware of a resource server, and to a real auth server process. Every forged token
// must be a 401 whose body names the verifier's exact code and whose challenge is RFC 6750's
// invalid_token, never a 200, a 500 or a hang; a token that is not a JWS must never make a resource
// server reload its keys.
import assert from 'node:assert/strict';
import { createHmac, sign as cryptoSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import express, { type Request, type Response } from 'express';
import Fastify from 'fastify';
import { revocableExpress } from '../../src/http/express/index.js';
import { revocablePlugin } from '../../src/http/fastify/index.js';
import type { TokenGuardOptions } from '../../src/http/index.js';
import {
  call,
  removeDataDirs,
  type ServerProcess,
  startServerProcess,
} from '../server/server-process.js';
import { type Answer, keyOptions, listen, newWorld, send, type World } from './support.js';

const b64 = (value: unknown) =>
  Buffer.from(
    typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value),
  ).toString('base64url');

function decode(segment: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'));
}

const attacker = generateKeyPairSync('ed25519');
const attackerJwk = attacker.publicKey.export({ format: 'jwk' });

// The order of the Ed25519 group.
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** One forged credential and the code its refusal must carry. */
interface Attack {
  readonly name: string;
  readonly token: string;
  readonly code: string;
}

/**
 * Attacks made from a genuine EdDSA access token, without the issuer's private key: everything an
 * outsider can send. `issuerKey`, when given, signs the attacks that need the issuer's signature
 * (a payload the issuer would never write), to show what happens past the signature.
 */
function outsiderAttacks(token: string, issuerKey?: KeyObject): Attack[] {
  const [h, p, s] = token.split('.') as [string, string, string];
  const header = decode(h);
  const payload = decode(p);
  const kid = String(header.kid);
  const signed = (head: unknown, body: unknown, key: KeyObject) => {
    const input = `${b64(head)}.${b64(body)}`;
    return `${input}.${b64(cryptoSign(null, Buffer.from(input), key))}`;
  };
  const keep = (head: unknown, body: unknown) => `${b64(head)}.${b64(body)}.${s}`;
  const hmac = (head: unknown, secret: string | Buffer) => {
    const input = `${b64(head)}.${p}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const signature = Buffer.from(s, 'base64url');
  const S = BigInt(`0x${Buffer.from(signature.subarray(32)).reverse().toString('hex')}`);
  const nonCanonical = Buffer.concat([
    signature.subarray(0, 32),
    Buffer.from((S + L).toString(16).padStart(64, '0'), 'hex').reverse(),
  ]);
  const attacks: Attack[] = [
    { name: 'alg none', token: `${b64({ ...header, alg: 'none' })}.${p}.`, code: 'ERR_JWT_ALG' },
    {
      name: 'alg None, kept signature',
      token: keep({ ...header, alg: 'None' }, payload),
      code: 'ERR_JWT_ALG',
    },
    {
      name: 'alg "none " with a space',
      token: `${b64({ ...header, alg: 'none ' })}.${p}.`,
      code: 'ERR_JWT_ALG',
    },
    {
      name: 'HS256 keyed with the public x',
      token: hmac({ ...header, alg: 'HS256' }, Buffer.from(String(attackerJwk.x), 'base64url')),
      code: 'ERR_JWT_ALG',
    },
    {
      name: 'alg RS256, kept signature',
      token: keep({ ...header, alg: 'RS256' }, payload),
      code: 'ERR_JWT_ALG',
    },
    {
      name: 'embedded jwk of the attacker',
      token: signed({ ...header, jwk: attackerJwk }, payload, attacker.privateKey),
      code: 'ERR_JWT_HEADER',
    },
    {
      name: 'jku to the attacker',
      token: signed(
        { ...header, jku: 'http://127.0.0.1:1/jwks.json' },
        payload,
        attacker.privateKey,
      ),
      code: 'ERR_JWT_HEADER',
    },
    {
      name: 'x5u to the attacker',
      token: signed(
        { ...header, x5u: 'http://127.0.0.1:1/cert.pem' },
        payload,
        attacker.privateKey,
      ),
      code: 'ERR_JWT_HEADER',
    },
    { name: 'x5c', token: keep({ ...header, x5c: ['MIIB'] }, payload), code: 'ERR_JWT_HEADER' },
    { name: 'crit', token: keep({ ...header, crit: ['exp'] }, payload), code: 'ERR_JWT_HEADER' },
    {
      name: 'b64 false',
      token: keep({ ...header, b64: false, crit: ['b64'] }, payload),
      code: 'ERR_JWT_HEADER',
    },
    { name: 'zip', token: keep({ ...header, zip: 'DEF' }, payload), code: 'ERR_JWT_HEADER' },
    {
      name: 'kid path traversal',
      token: keep({ ...header, kid: '../../../../dev/null' }, payload),
      code: 'ERR_JWT_KID_UNKNOWN',
    },
    {
      name: 'kid SQL',
      token: keep({ ...header, kid: "' OR '1'='1" }, payload),
      code: 'ERR_JWT_KID_UNKNOWN',
    },
    {
      name: 'kid with CRLF',
      token: keep({ ...header, kid: `${kid}\r\nX: 1` }, payload),
      code: 'ERR_JWT_MALFORMED',
    },
    {
      name: 'kid a number',
      token: keep({ ...header, kid: 0 }, payload),
      code: 'ERR_JWT_MALFORMED',
    },
    { name: 'typ JWT', token: keep({ ...header, typ: 'JWT' }, payload), code: 'ERR_JWT_TYP' },
    { name: 'no typ', token: keep({ alg: header.alg, kid }, payload), code: 'ERR_JWT_TYP' },
    {
      name: 'header repeats alg',
      token: `${b64(`{"alg":"EdDSA","typ":"at+jwt","kid":${JSON.stringify(kid)},"alg":"none"}`)}.${p}.${s}`,
      code: 'ERR_JWT_MALFORMED',
    },
    {
      name: 'header with a BOM',
      token: `${b64(`\ufeff${JSON.stringify(header)}`)}.${p}.${s}`,
      code: 'ERR_JWT_MALFORMED',
    },
    {
      name: 'the attacker signs under the kid',
      token: signed(header, payload, attacker.privateKey),
      code: 'ERR_JWT_SIGNATURE',
    },
    {
      name: 'sub changed, kept signature',
      token: keep(header, { ...payload, sub: 'admin' }),
      code: 'ERR_JWT_SIGNATURE',
    },
    {
      name: 'exp extended, kept signature',
      token: keep(header, { ...payload, exp: Number(payload.exp) + 86400 }),
      code: 'ERR_JWT_SIGNATURE',
    },
    { name: 'empty signature', token: `${h}.${p}.`, code: 'ERR_JWT_SIGNATURE' },
    {
      name: 'all-zero signature',
      token: `${h}.${p}.${b64(Buffer.alloc(64))}`,
      code: 'ERR_JWT_SIGNATURE',
    },
    { name: 'Ed25519 S + L', token: `${h}.${p}.${b64(nonCanonical)}`, code: 'ERR_JWT_SIGNATURE' },
    {
      name: 'signature of 63 bytes',
      token: `${h}.${p}.${b64(signature.subarray(1))}`,
      code: 'ERR_JWT_SIGNATURE',
    },
    { name: 'two segments', token: `${h}.${p}`, code: 'ERR_JWT_MALFORMED' },
    { name: 'four segments', token: `${token}.${s}`, code: 'ERR_JWT_MALFORMED' },
    {
      name: 'JWE, five segments',
      token: [{ alg: 'RSA-OAEP', enc: 'A256GCM' }, 'k', 'iv', 'c', 't'].map(b64).join('.'),
      code: 'ERR_JWT_MALFORMED',
    },
    { name: 'empty payload', token: `${h}..${s}`, code: 'ERR_JWT_MALFORMED' },
    { name: 'padded signature', token: `${token}=`, code: 'ERR_JWT_MALFORMED' },
    { name: 'a "+" in the payload', token: `${h}.+${p.slice(1)}.${s}`, code: 'ERR_JWT_MALFORMED' },
    {
      name: 'a "~" in the payload',
      token: `${h}.${p.slice(0, -1)}~.${s}`,
      code: 'ERR_JWT_MALFORMED',
    },
    {
      name: 'a "+" in the signature',
      token: `${h}.${p}.+${s.slice(1)}`,
      code: 'ERR_JWT_MALFORMED',
    },
    {
      name: 'unknown kid and a "/" in the payload',
      token: `${b64({ ...header, kid: 'not-a-kid' })}.${p.slice(0, 4)}/${p.slice(5)}.${s}`,
      code: 'ERR_JWT_MALFORMED',
    },
    // RFC 6750's b64token has "=" only at its end: refused as a header before it is a token.
    { name: 'padded payload', token: `${h}.${p}=.${s}`, code: 'ERR_AUTH_HEADER_INVALID' },
    // Longer than any Authorization header is read: refused as a header before it is a token.
    {
      name: 'too long',
      token: `${h}.${b64({ ...payload, pad: 'x'.repeat(6200) })}.${s}`,
      code: 'ERR_AUTH_HEADER_INVALID',
    },
  ];
  if (issuerKey !== undefined) {
    const issued = (body: unknown) => signed(header, body, issuerKey);
    const text = JSON.stringify(payload);
    attacks.push(
      {
        name: 'issuer-signed: exp a string',
        token: issued({ ...payload, exp: String(payload.exp) }),
        code: 'ERR_JWT_CLAIM_INVALID',
      },
      {
        name: 'issuer-signed: exp 1e309',
        token: signed(header, text.replace(/"exp":\d+/, '"exp":1e309'), issuerKey),
        code: 'ERR_JWT_CLAIM_INVALID',
      },
      {
        name: 'issuer-signed: expired',
        token: issued({ ...payload, exp: 1 }),
        code: 'ERR_JWT_EXPIRED',
      },
      {
        name: 'issuer-signed: nbf in a day',
        token: issued({ ...payload, nbf: Number(payload.iat) + 86400 }),
        code: 'ERR_JWT_NOT_YET_VALID',
      },
      {
        name: 'issuer-signed: iat in a day',
        token: issued({ ...payload, iat: Number(payload.iat) + 86400 }),
        code: 'ERR_JWT_IAT_FUTURE',
      },
      {
        name: 'issuer-signed: exp in 9999',
        token: issued({ ...payload, exp: 253402300799 }),
        code: 'ERR_JWT_LIFETIME',
      },
      {
        name: 'issuer-signed: iss with a trailing slash',
        token: issued({ ...payload, iss: `${payload.iss}/` }),
        code: 'ERR_JWT_ISSUER',
      },
      {
        name: 'issuer-signed: another audience',
        token: issued({ ...payload, aud: 'other-api' }),
        code: 'ERR_JWT_AUDIENCE',
      },
      {
        name: 'issuer-signed: aud [1]',
        token: issued({ ...payload, aud: [1] }),
        code: 'ERR_JWT_CLAIM_INVALID',
      },
      {
        name: 'issuer-signed: sub a number',
        token: issued({ ...payload, sub: 1 }),
        code: 'ERR_JWT_CLAIM_INVALID',
      },
      {
        name: 'issuer-signed: sid null',
        token: issued({ ...payload, sid: null }),
        code: 'ERR_JWT_CLAIM_INVALID',
      },
      {
        name: 'issuer-signed: no jti',
        token: issued({ ...payload, jti: undefined }),
        code: 'ERR_JWT_CLAIM_MISSING',
      },
      {
        name: 'issuer-signed: __proto__',
        token: signed(header, `${text.slice(0, -1)},"__proto__":{"roles":["admin"]}}`, issuerKey),
        code: 'ERR_JWT_MALFORMED',
      },
      {
        name: 'issuer-signed: sub twice',
        token: signed(header, `${text.slice(0, -1)},"sub":"admin"}`, issuerKey),
        code: 'ERR_JWT_MALFORMED',
      },
      {
        name: 'issuer-signed: a BOM',
        token: signed(header, `\ufeff${text}`, issuerKey),
        code: 'ERR_JWT_MALFORMED',
      },
      {
        name: 'issuer-signed: not UTF-8',
        token: signed(
          header,
          Buffer.concat([
            Buffer.from(`${text.slice(0, -1)},"x":"`),
            Buffer.from([0xc0, 0xaf]),
            Buffer.from('"}'),
          ]),
          issuerKey,
        ),
        code: 'ERR_JWT_MALFORMED',
      },
      {
        name: 'issuer-signed: typ JWT',
        token: signed({ ...header, typ: 'JWT' }, payload, issuerKey),
        code: 'ERR_JWT_TYP',
      },
    );
  }
  return attacks;
}

function refusedAs(answer: Answer, code: string, label: string): void {
  assert.equal(answer.status, 401, `${label}: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error, code, label);
  assert.equal(typeof answer.body.message, 'string', label);
  assert.equal(answer.headers['cache-control'], 'no-store', label);
  const kind = code === 'ERR_AUTH_HEADER_INVALID' ? 'invalid_request' : 'invalid_token';
  assert.equal(
    answer.headers['www-authenticate'],
    `Bearer realm="api", error="${kind}", error_description="${code}"`,
    label,
  );
}

type Mounts = Record<string, TokenGuardOptions>;

async function expressApp(mounts: Mounts) {
  const app = express();
  for (const [prefix, options] of Object.entries(mounts)) {
    const auth = revocableExpress({ ...options, realm: 'api' });
    app.get(`/${prefix}/me`, auth.authenticate(), (req: Request, res: Response) => {
      res.json({ sub: req.auth?.sub });
    });
  }
  return listen(app);
}

async function fastifyApp(mounts: Mounts) {
  const app = Fastify();
  for (const [prefix, options] of Object.entries(mounts)) {
    await app.register(
      async (scope) => {
        await scope.register(revocablePlugin, { ...options, realm: 'api' });
        scope.get('/me', { onRequest: scope.revocable.authenticate() }, async (request) => ({
          sub: request.auth?.sub,
        }));
      },
      { prefix: `/${prefix}` },
    );
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { base: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

for (const [framework, makeApp] of [
  ['Express', expressApp],
  ['Fastify', fastifyApp],
] as const) {
  describe(`${framework}: the attack corpus against the resource-server middleware`, () => {
    let world: World;
    let base = '';
    let close = async () => {};
    let reloads = 0;

    before(async () => {
      world = newWorld();
      ({ base, close } = await makeApp({
        main: keyOptions(world),
        // A guard that reloads its keys for an unknown kid, counting the reloads.
        reloading: {
          ...keyOptions(world),
          refreshKeys: async () => {
            reloads++;
            return false;
          },
        },
      }));
    });

    after(() => close());

    const bearer = (token: string): OutgoingHttpHeaders => ({ authorization: `Bearer ${token}` });

    it('refuses every forged token with its exact code, and still takes the genuine one', async () => {
      const { token } = await world.login('victim', { roles: ['user'] });
      const attacks = outsiderAttacks(token, world.authRing.active.signKey ?? undefined);
      assert.ok(attacks.length > 50);
      for (const { name, token: forged, code } of attacks) {
        refusedAs(await send(base, '/main/me', bearer(forged)), code, name);
      }
      const accepted = await send(base, '/main/me', bearer(token));
      assert.equal(accepted.status, 200);
      assert.deepEqual(accepted.body, { sub: 'victim' });
    });

    it('refuses a token replayed after its logout, and one of a session ended by a ban', async () => {
      const { token, sid } = await world.login('replayed');
      assert.equal((await send(base, '/main/me', bearer(token))).status, 200);
      await world.sessions.logout(sid);
      refusedAs(await send(base, '/main/me', bearer(token)), 'ERR_TOKEN_REVOKED', 'after logout');
    });

    it('refuses a refresh token presented as an access token', async () => {
      const pair = await world.sessions.login('refresher');
      refusedAs(
        await send(base, '/main/me', bearer(pair.refreshToken)),
        'ERR_JWT_MALFORMED',
        'refresh token',
      );
    });

    it('reads no token from the query string or a header of another name', async () => {
      const { token } = await world.login('elsewhere');
      for (const [path, headers] of [
        [`/main/me?access_token=${token}`, {}],
        ['/main/me', { 'x-access-token': token }],
        ['/main/me', { authorization: `JWT ${token}` }],
        ['/main/me', { authorization: `Token ${token}` }],
      ] as const) {
        const answer = await send(base, path, headers);
        assert.equal(answer.status, 401, path);
        assert.equal(answer.body.error, 'ERR_AUTH_REQUIRED');
        assert.equal(answer.headers['www-authenticate'], 'Bearer realm="api"');
      }
    });

    it('a token that is not a JWS never makes the guard reload its keys, whatever its kid', async () => {
      const { token } = await world.login('reloader');
      const [h, p, s] = token.split('.') as [string, string, string];
      const unknown = b64({ ...decode(h), kid: 'not-a-kid' });
      for (const [forged, code] of [
        [`${unknown}.${p.slice(0, 4)}+${p.slice(5)}.${s}`, 'ERR_JWT_MALFORMED'],
        [`${unknown}.${p.slice(0, 4)}~${p.slice(5)}.${s}`, 'ERR_JWT_MALFORMED'],
        [`${unknown}..${s}`, 'ERR_JWT_MALFORMED'],
        [`${unknown}.${p}.${s}=`, 'ERR_JWT_MALFORMED'],
        [`${unknown}.${p}.${s.slice(0, 10)}/${s.slice(11)}`, 'ERR_JWT_MALFORMED'],
        [`${unknown}.${p}`, 'ERR_JWT_MALFORMED'],
        [`${unknown}.${p}=.${s}`, 'ERR_AUTH_HEADER_INVALID'],
      ] as const) {
        refusedAs(await send(base, '/reloading/me', bearer(forged)), code, forged);
      }
      assert.equal(reloads, 0);
      // A well-formed token with that kid is worth one reload, and is then refused as unknown.
      refusedAs(
        await send(base, '/reloading/me', bearer(`${unknown}.${p}.${s}`)),
        'ERR_JWT_KID_UNKNOWN',
        'unknown kid',
      );
      assert.equal(reloads, 1);
    });
  });
}

describe('the attack corpus against a real auth server', () => {
  let server: ServerProcess;
  let token = '';
  let refresh = '';

  before(async () => {
    server = await startServerProcess();
    const credentials = { username: 'victim', password: 'correct horse battery' };
    const registered = await call(server.url, 'POST', '/auth/register', { json: credentials });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const login = await call(server.url, 'POST', '/auth/login', { json: credentials });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    token = login.body.access_token;
    refresh = login.body.refresh_token;
  });

  after(async () => {
    await server?.stop();
    removeDataDirs();
  });

  it('GET /auth/me refuses every forged token with its exact code', async () => {
    const problems: string[] = [];
    for (const { name, token: forged, code } of outsiderAttacks(token)) {
      const answer = await call(server.url, 'GET', '/auth/me', { token: forged });
      if (answer.status !== 401 || answer.body?.error !== code) {
        problems.push(`${name}: ${answer.status} ${JSON.stringify(answer.body)}, expected ${code}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.equal((await call(server.url, 'GET', '/auth/me', { token })).status, 200);
  });

  it('a refresh token is no access token, an access token is no refresh token, and a logout is final', async () => {
    const asAccess = await call(server.url, 'GET', '/auth/me', { token: refresh });
    assert.equal(asAccess.status, 401);
    assert.equal(asAccess.body.error, 'ERR_JWT_MALFORMED');
    // Longer than any refresh token: refused as a body field, before any session is looked up.
    const asRefresh = await call(server.url, 'POST', '/auth/refresh', {
      json: { refresh_token: token },
    });
    assert.equal(asRefresh.status, 400, JSON.stringify(asRefresh.body));
    assert.equal(asRefresh.body.error, 'ERR_HTTP_BODY_INVALID');
    // Its signature segment alone has a refresh token's length: no session has it.
    const signature = token.slice(token.lastIndexOf('.') + 1);
    const shaped = await call(server.url, 'POST', '/auth/refresh', {
      json: { refresh_token: `${token.split('.')[0]?.slice(0, 22)}.${signature.slice(0, 43)}` },
    });
    assert.equal(shaped.status, 401, JSON.stringify(shaped.body));
    assert.equal(shaped.body.error, 'ERR_REFRESH_INVALID');
    const logout = await call(server.url, 'POST', '/auth/logout', { token });
    assert.equal(logout.status, 200, JSON.stringify(logout.body));
    const replayed = await call(server.url, 'GET', '/auth/me', { token });
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body.error, 'ERR_TOKEN_REVOKED');
    const refreshed = await call(server.url, 'POST', '/auth/refresh', {
      json: { refresh_token: refresh },
    });
    assert.equal(refreshed.status, 401, JSON.stringify(refreshed.body));
    assert.equal(refreshed.body.error, 'ERR_SESSION_REVOKED');
  });
});
