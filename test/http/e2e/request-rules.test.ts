// End to end: what the route requirements and the bearer parser of the middleware answer, on real
// resource server processes (Express and Fastify, on the HTTP feed of a real auth server), to
// real tokens of the auth server and to malformed Authorization headers sent as bytes. Every
// refusal must be a typed 401 or 403 with its RFC 6750 challenge, never a 5xx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN, login, newName, register, type Tokens } from '../../server/cluster-support.js';
import { parseRawAnswer, rawExchange } from '../../server/raw-request.js';
import { call, removeDataDirs } from '../../server/server-process.js';
import { type Answer as SentAnswer, send } from '../support.js';
import {
  type AuthServer,
  assertError,
  get,
  ok,
  type ResourceApp,
  startAuthServer,
  startResourceApp,
  stopAll,
  within,
} from './processes.js';

const ISSUER = 'https://auth.e2e.test';
const AUDIENCE = 'e2e-api';
const REALM = 'Bearer realm="revocable"';
const INVALID_REQUEST = `${REALM}, error="invalid_request", error_description="ERR_AUTH_HEADER_INVALID"`;
const INSUFFICIENT_SCOPE = `${REALM}, error="insufficient_scope", error_description="ERR_FORBIDDEN"`;

describe('route requirements and malformed headers on real resource servers (Express and Fastify)', () => {
  let auth: AuthServer;
  let apps: ResourceApp[] = [];
  let admin = '';
  let userToken: Tokens;
  let userId = '';

  before(async () => {
    auth = await startAuthServer({
      env: { REVOCABLE_ADMIN_USER: ADMIN.username, REVOCABLE_ADMIN_PASSWORD: ADMIN.password },
      args: ['--issuer', ISSUER, '--audience', AUDIENCE],
    });
    apps = await Promise.all(
      (['express', 'fastify'] as const).map((framework) =>
        startResourceApp({
          framework,
          source: { kind: 'feed', authUrl: auth.url },
          issuer: ISSUER,
          audience: AUDIENCE,
          maxStaleness: 5,
        }),
      ),
    );
    admin = (await login(auth.url, ADMIN.username, ADMIN.password)).access_token;
    const name = newName('plain');
    userId = await register(auth.url, name);
    userToken = await login(auth.url, name);
  });

  after(async () => {
    await stopAll();
    removeDataDirs();
  });

  it('roles: 403 insufficient_scope without the role, 200 with it', async () => {
    for (const app of apps) {
      const refused = await get(app.url, '/admin', userToken.access_token);
      assertError(refused, 403, 'ERR_FORBIDDEN', app.framework);
      assert.equal(refused.headers.get('www-authenticate'), INSUFFICIENT_SCOPE);
      const accepted = await ok(get(app.url, '/admin', admin));
      assert.deepEqual(accepted.roles, ['admin']);
      // The user's own token is good where no role is asked.
      assert.equal((await ok(get(app.url, '/me', userToken.access_token))).sub, userId);
    }
  });

  it("scopes: the auth server's tokens carry none, so a route that asks for one answers 403", async () => {
    for (const app of apps) {
      for (const token of [userToken.access_token, admin]) {
        const refused = await get(app.url, '/scoped', token);
        assertError(refused, 403, 'ERR_FORBIDDEN', app.framework);
        assert.equal(
          refused.headers.get('www-authenticate'),
          `${INSUFFICIENT_SCOPE}, scope="write"`,
        );
      }
    }
  });

  it('maxAge: 401 ERR_REAUTH_REQUIRED once the login is older than 2 s, even after a refresh; a new login passes', async () => {
    const name = newName('recent');
    await register(auth.url, name);
    const loggedInAt = Date.now() / 1000;
    const session = await login(auth.url, name);
    const authTime = JSON.parse(
      Buffer.from(session.access_token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ).auth_time as number;
    for (const app of apps) await ok(get(app.url, '/recent', session.access_token));
    await Promise.all(
      apps.map((app) =>
        // auth_time is the second of the login, rounded down: refused once 2 s past it.
        within(`maxAge 2 s (${app.framework})`, 4000, async () => {
          const answer = await get(app.url, '/recent', session.access_token);
          assertError(answer, 401, 'ERR_REAUTH_REQUIRED', app.framework);
          assert.equal(
            answer.headers.get('www-authenticate'),
            `${REALM}, error="insufficient_user_authentication", error_description="ERR_REAUTH_REQUIRED", max_age="2"`,
          );
        }),
      ),
    );
    const now = Date.now() / 1000;
    assert.ok(now - authTime > 2, 'not refused before the 2 s were up');
    console.log(
      `maxAge 2 s: refused by both ${(now - loggedInAt).toFixed(2)} s after the login ` +
        `(${(now - authTime).toFixed(2)} s after its auth_time, whole seconds)`,
    );
    // A refresh keeps the login's auth_time: still too old. A new login is not.
    const refreshed = await ok<Tokens>(
      call(auth.url, 'POST', '/auth/refresh', { json: { refresh_token: session.refresh_token } }),
    );
    const again = await login(auth.url, name);
    for (const app of apps) {
      await ok(get(app.url, '/me', session.access_token));
      assertError(
        await get(app.url, '/recent', refreshed.access_token),
        401,
        'ERR_REAUTH_REQUIRED',
        app.framework,
      );
      await ok(get(app.url, '/recent', again.access_token));
    }
  });

  /** Asserts a typed 401 of the middleware with the challenge given. */
  function refused(answer: SentAnswer, code: string, challenge: string, what: string): void {
    assert.equal(answer.status, 401, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error, code, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(typeof answer.body.message, 'string', what);
    assert.equal(answer.headers['www-authenticate'], challenge, what);
  }

  it('malformed Authorization headers: a typed 401 with invalid_request, never a 5xx', async () => {
    const token = userToken.access_token;
    const cases: [string, string][] = [
      ['no scheme', token],
      ['the scheme alone', 'Bearer'],
      ['two tokens', `Bearer ${token} ${token}`],
      ['a list of two', `Bearer ${token}, Bearer ${token}`],
      ['a tab for a space', `Bearer\t${token}`],
      ['a quoted token', `Bearer "${token}"`],
      ['10 KB', `Bearer ${'a'.repeat(10 * 1024)}`],
      ['a 10 KB token of the right shape', `Bearer ${token}${'A'.repeat(10 * 1024)}`],
    ];
    for (const app of apps) {
      for (const [what, value] of cases) {
        const answer = await send(app.url, '/me', { authorization: value });
        refused(answer, 'ERR_AUTH_HEADER_INVALID', INVALID_REQUEST, `${app.framework}: ${what}`);
      }
      refused(await send(app.url, '/me'), 'ERR_AUTH_REQUIRED', REALM, `${app.framework}: none`);
      // RFC 6750 section 3.1: a request that tried another scheme lacks Bearer credentials, and
      // gets the bare challenge, with no error code in it.
      for (const value of ['Basic dXNlcjpwYXNzd29yZA==', 'DPoP abc.def.ghi']) {
        refused(
          await send(app.url, '/me', { authorization: value }),
          'ERR_AUTH_REQUIRED',
          REALM,
          `${app.framework}: ${value}`,
        );
      }
      refused(
        await send(app.url, '/me', { authorization: 'Bearer not-a-jwt' }),
        'ERR_JWT_MALFORMED',
        `${REALM}, error="invalid_token", error_description="ERR_JWT_MALFORMED"`,
        `${app.framework}: not a JWT`,
      );
      // The scheme is case-insensitive, and spaces around the token are allowed.
      for (const value of [`bearer ${token}`, `BEARER   ${token}  `]) {
        const answer = await send(app.url, '/me', { authorization: value });
        assert.equal(answer.status, 200, `${app.framework}: ${value.slice(0, 12)}`);
      }
    }
  });

  it('non-ASCII and control bytes in the Authorization header, sent raw: a 401 or a 400, never a 5xx', async () => {
    const token = userToken.access_token;
    const head = (value: Buffer) =>
      Buffer.concat([
        Buffer.from('GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ', 'latin1'),
        value,
        Buffer.from('\r\nConnection: close\r\n\r\n', 'latin1'),
      ]);
    const typed: [string, Buffer][] = [
      [
        'a Latin-1 byte after the token',
        Buffer.concat([Buffer.from(`Bearer ${token}`), Buffer.from([0xe9])]),
      ],
      [
        'UTF-8 in the token',
        Buffer.from(`Bearer ${token.slice(0, 20)}é${token.slice(20)}`, 'utf8'),
      ],
      ['UTF-8 for the scheme', Buffer.from(`Bearér ${token}`, 'utf8')],
      ['a lone 0xff', Buffer.from([0x42, 0x65, 0x61, 0x72, 0x65, 0x72, 0x20, 0xff])],
    ];
    for (const app of apps) {
      for (const [what, value] of typed) {
        const { status, body } = parseRawAnswer(await rawExchange(app.url, head(value)));
        assert.equal(status, 401, `${app.framework}: ${what}: ${body}`);
        assert.equal(
          JSON.parse(body).error,
          'ERR_AUTH_HEADER_INVALID',
          `${app.framework}: ${what}`,
        );
      }
      // Bytes HTTP forbids in a field value: Node.js's parser answers 400 before any middleware.
      for (const byte of [0x00, 0x01, 0x7f]) {
        const value = Buffer.concat([Buffer.from(`Bearer ${token}`), Buffer.from([byte])]);
        const { status } = parseRawAnswer(await rawExchange(app.url, head(value)));
        assert.ok(status >= 400 && status < 500, `${app.framework}: byte ${byte}: ${status}`);
      }
    }
  });

  // Node.js keeps the first Authorization line and drops the others before the middleware sees
  // the headers; the adapters count the lines in rawHeaders, so a proxy that read the other one
  // and the app cannot disagree on who the caller is.
  it('two Authorization header lines: refused as ERR_AUTH_HEADER_INVALID, whichever comes first', async () => {
    const token = userToken.access_token;
    const pairs: [string, string][] = [
      [`Bearer ${token}`, 'Bearer garbage'],
      ['Bearer garbage', `Bearer ${token}`],
      [`Bearer ${token}`, `Bearer ${admin}`],
    ];
    const problems: string[] = [];
    for (const app of apps) {
      for (const [first, second] of pairs) {
        const bytes =
          `GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${first}\r\n` +
          `Authorization: ${second}\r\nConnection: close\r\n\r\n`;
        const { status, body } = parseRawAnswer(await rawExchange(app.url, bytes));
        assert.ok(status < 500, `${app.framework}: ${status} ${body}`);
        const error = status === 401 ? JSON.parse(body).error : null;
        if (error !== 'ERR_AUTH_HEADER_INVALID') {
          problems.push(
            `${app.framework} ${first.slice(0, 14)}… then ${second.slice(0, 14)}…: ${status} ${error ?? body.slice(0, 60)}`,
          );
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
