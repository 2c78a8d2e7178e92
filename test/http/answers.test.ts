import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES, type ErrorCode } from '../../src/errors/codes.js';
import { isRevocableError, RevocableError, TokenRevokedError } from '../../src/errors/index.js';
import {
  createRevocationCheck,
  errorAnswer,
  HTTP_STATUS,
  InsufficientScopeError,
  ReauthRequiredError,
} from '../../src/http/index.js';
import {
  createKeyRevocation,
  createRevocationIndex,
  createSessionRevocation,
  createSubjectRevocation,
} from '../../src/revocation/index.js';

function answer(code: ErrorCode) {
  return errorAnswer(new RevocableError(code, `because ${code}`));
}

describe('errorAnswer', () => {
  it('answers every code with its status and { error, message }, never cached', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const { status, headers, body } = answer(code);
      assert.equal(status, HTTP_STATUS[code]);
      assert.equal(body.error, code);
      // A 5xx's own message is for the log (see below).
      if (status < 500) assert.equal(body.message, `because ${code}`);
      assert.equal(headers['cache-control'], 'no-store');
      if (status === 401)
        assert.match(headers['www-authenticate'] ?? '', /^Bearer realm="revocable"/, code);
    }
  });

  it('challenges as RFC 6750 says', () => {
    assert.equal(
      answer('ERR_AUTH_REQUIRED').headers['www-authenticate'],
      'Bearer realm="revocable"',
    );
    assert.equal(
      answer('ERR_AUTH_HEADER_INVALID').headers['www-authenticate'],
      'Bearer realm="revocable", error="invalid_request", error_description="ERR_AUTH_HEADER_INVALID"',
    );
    assert.equal(
      errorAnswer(new TokenRevokedError('session')).headers['www-authenticate'],
      'Bearer realm="revocable", error="invalid_token", error_description="ERR_TOKEN_REVOKED"',
    );
    assert.equal(
      answer('ERR_SESSION_REVOKED').headers['www-authenticate'],
      'Bearer realm="revocable", error="invalid_token", error_description="ERR_SESSION_REVOKED"',
    );
    const forbidden = errorAnswer(new RevocableError('ERR_FORBIDDEN', 'no'), { realm: 'api' });
    assert.equal(forbidden.status, 403);
    assert.equal(
      forbidden.headers['www-authenticate'],
      'Bearer realm="api", error="insufficient_scope", error_description="ERR_FORBIDDEN"',
    );
    // A missing scope names the route's scopes (RFC 6750 section 3).
    assert.equal(
      errorAnswer(new InsufficientScopeError(['read', 'write:all']), { realm: 'api' }).headers[
        'www-authenticate'
      ],
      'Bearer realm="api", error="insufficient_scope", error_description="ERR_FORBIDDEN", scope="read write:all"',
    );
    const reauth = errorAnswer(new ReauthRequiredError(900));
    assert.equal(reauth.status, 401);
    assert.equal(
      reauth.headers['www-authenticate'],
      'Bearer realm="revocable", error="insufficient_user_authentication", error_description="ERR_REAUTH_REQUIRED", max_age="900"',
    );
  });

  it('answers 503 with Retry-After for a stale index or a store that is down', () => {
    for (const code of ['ERR_REVOCATION_STALE', 'ERR_STORE_UNAVAILABLE'] as const) {
      const { status, headers } = answer(code);
      assert.equal(status, 503);
      assert.equal(headers['retry-after'], '1');
      assert.equal(headers['www-authenticate'], undefined);
    }
  });

  it("keeps a 5xx's reason (a host, a schema) out of the answer, and a 4xx's message in it", () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const error = new RevocableError(code, 'PostgreSQL failed: relation "billing.rv_x" (db-7)');
      const { status, body } = errorAnswer(error);
      assert.equal(body.error, code);
      if (status >= 500) assert.ok(!body.message.includes('db-7'), code);
      else assert.equal(body.message, error.message, code);
    }
  });

  it('tells nothing of an error that is not revocable, and refuses a bad realm', () => {
    const { status, body } = errorAnswer(new Error('secret detail'));
    assert.equal(status, 500);
    assert.equal(body.error, 'ERR_SERVER_INTERNAL');
    assert.ok(!body.message.includes('secret'));
    assert.throws(() => errorAnswer(new Error('x'), { realm: 'a"b' }), /realm/);
  });

  it('answers a RevocableError whose code has no status (a custom store or verifier) as a 500 that tells nothing', () => {
    // Made by code of the application's own (JavaScript, or a cast): no status in the table, so
    // no status an adapter could send, and a message that was never meant for clients.
    for (const code of ['ERR_STORE_TIMEOUT', 'constructor', 'toString', '__proto__']) {
      const { status, headers, body } = errorAnswer(
        new RevocableError(code as ErrorCode, 'pool db-7 timed out'),
      );
      assert.equal(status, 500, code);
      assert.deepEqual(headers, { 'cache-control': 'no-store' });
      assert.equal(body.error, 'ERR_SERVER_INTERNAL');
      assert.ok(!body.message.includes('db-7'));
    }
  });
});

describe('createRevocationCheck', () => {
  const now = Math.floor(Date.now() / 1000);
  const timing = { maxAccessTokenLifetime: '10m' };
  const claims = { sub: 'u', sid: 's1', jti: 'j1', iat: now, exp: now + 600 };

  it('says true for what the index revokes, with the key rule when a kid is given', () => {
    const index = createRevocationIndex(timing);
    const isRevoked = createRevocationCheck(index);
    assert.equal(isRevoked(claims, 'k1'), false);
    index.apply(createSessionRevocation({ sid: 's1' }, timing));
    assert.equal(isRevoked(claims), true);
    assert.equal(isRevoked({ ...claims, sid: 's2' }, 'k1'), false);
    index.apply(createKeyRevocation({ kid: 'k1' }, timing));
    assert.equal(isRevoked({ ...claims, sid: 's2' }, 'k1'), true);
  });

  it('says true for what the index cannot vouch for', () => {
    const isRevoked = createRevocationCheck(createRevocationIndex(timing));
    assert.equal(isRevoked({ ...claims, exp: now + 3600 }), true);
    assert.equal(isRevoked({ sub: 'u', exp: now + 60 }), true);
    assert.equal(isRevoked({ sub: 'u', iat: now }), true);
    assert.equal(isRevoked('a string payload'), true);
    assert.equal(isRevoked(null), true);
  });

  it('says true for a token issued in the future, which a subject or global cut-off would miss', () => {
    const index = createRevocationIndex(timing);
    const isRevoked = createRevocationCheck(index);
    const later = { ...claims, iat: now + 3600, exp: now + 3600 + 600 };
    // A cut-off made now refuses what was issued before it, judged by iat.
    index.apply(createSubjectRevocation({ sub: 'u' }, timing));
    assert.equal(isRevoked(claims), true);
    assert.equal(isRevoked(later), true);
    // Within the index's clock skew it is an ordinary clock difference, and the cut-off decides.
    const skewed = { ...claims, sub: 'v', iat: now + index.clockSkew - 1 };
    assert.equal(isRevoked(skewed), false);
    assert.equal(isRevoked({ ...later, sub: 'v' }), true);
  });

  it('refuses options it does not know', () => {
    assert.throws(
      () => createRevocationCheck(createRevocationIndex(timing), { maxStalenes: 5 } as never),
      (error: unknown) =>
        isRevocableError(error, 'ERR_INVALID_ARGUMENT') && /"maxStaleness"/.test(error.message),
    );
  });

  it('counts a stale index as revoking everything, unless told to allow', () => {
    const index = createRevocationIndex(timing);
    assert.equal(createRevocationCheck(index, { maxStaleness: 1 })(claims), true);
    assert.equal(
      createRevocationCheck(index, { maxStaleness: 1, onStale: 'allow' })(claims),
      false,
    );
    assert.equal(createRevocationCheck(index)(claims), false);
    index.markFresh();
    assert.equal(createRevocationCheck(index, { maxStaleness: 1 })(claims), false);
  });
});
