// What an iss or aud refusal tells, and to whom. The error's message names the values the verifier
// accepts and the value the token carried, so that a developer can see why (a trailing slash, a
// letter case, a look-alike letter); the token's side is attacker-chosen, so it is shown escaped to
// printable ASCII and cut short. An HTTP answer keeps the one fixed sentence it always had.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ErrorCode, JwtClaimError } from '../../src/errors/index.js';
import { errorAnswer } from '../../src/http/error-answer.js';
import { shownClaim } from '../../src/jwt/claim-display.js';
import { KeyRing, signJwt, type VerifierOptions } from '../../src/jwt/index.js';
import { createVerifier } from '../../src/jwt/verify.js';
import { createRevocableVerifier, createRevocationIndex } from '../../src/revocation/index.js';
import { describeError } from '../../src/server/http/errors.js';

const NOW = 1_800_000_000;
const now = () => NOW;
const ISSUER = 'https://auth.example';
const CLAIMS = { iss: ISSUER, aud: 'api', sub: 'u1', jti: 'j1', iat: NOW, exp: NOW + 600 };
const ring = KeyRing.generate('HS256');

// The sentences these refusals carried before they named anything, and still carry over HTTP.
const ISSUER_SENTENCE = 'The issuer is not accepted.';
const AUDIENCE_SENTENCE = 'The token is not meant for this audience.';

function token(claims: Record<string, unknown>): string {
  return signJwt(claims, ring.active);
}

function verifier(options: Partial<VerifierOptions> = {}) {
  return createVerifier({ keys: ring, issuer: ISSUER, audience: 'api', now, ...options });
}

function refusal(verify: () => unknown, code: ErrorCode): JwtClaimError {
  try {
    verify();
  } catch (error) {
    assert.ok(error instanceof JwtClaimError, String(error));
    assert.equal(error.code, code, error.message);
    assert.equal(error.reason, 'check_failed');
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('iss and aud refusals name both sides', () => {
  it('iss: the trailing slash that one side has and the other lacks is in plain sight', () => {
    const error = refusal(
      () => verifier().verify(token({ ...CLAIMS, iss: 'https://auth.example/' })),
      'ERR_JWT_ISSUER',
    );
    assert.equal(error.claim, 'iss');
    assert.equal(
      error.message,
      'The issuer is not accepted. The token\'s iss is "https://auth.example/"; this verifier ' +
        'accepts "https://auth.example".',
    );
  });

  it('iss: several accepted issuers are listed, at most 8 of them', () => {
    const two = refusal(
      () =>
        verifier({ issuer: ['https://a.example', 'https://b.example'] }).verify(
          token({ ...CLAIMS, iss: 'https://A.example' }),
        ),
      'ERR_JWT_ISSUER',
    );
    assert.equal(
      two.message,
      'The issuer is not accepted. The token\'s iss is "https://A.example"; this verifier ' +
        'accepts one of "https://a.example", "https://b.example".',
    );
    const tenants = Array.from({ length: 20 }, (_, i) => `https://t${i}.example`);
    const many = refusal(
      () => verifier({ issuer: tenants }).verify(token(CLAIMS)),
      'ERR_JWT_ISSUER',
    );
    assert.ok(many.message.endsWith('"https://t7.example", ... (20 in all).'), many.message);
    assert.ok(!many.message.includes('t8.example'), many.message);
  });

  it('aud: a string, an array, an empty array, a long array', () => {
    const v = verifier({ audience: ['api', 'admin'] });
    const tail = '; this verifier accepts one of "api", "admin".';
    const cases: [unknown, string][] = [
      ['web', '"web"'],
      ['API', '"API"'],
      [['web', 'mobile'], '["web", "mobile"]'],
      [[], '[]'],
      [['a', 'b', 'c', 'd', 'e', 'f'], '["a", "b", "c", "d", ... (6 items)]'],
    ];
    for (const [aud, shown] of cases) {
      const error = refusal(() => v.verify(token({ ...CLAIMS, aud })), 'ERR_JWT_AUDIENCE');
      assert.equal(error.claim, 'aud');
      assert.equal(error.message, `${AUDIENCE_SENTENCE} The token's aud is ${shown}${tail}`);
    }
  });

  it("the token's value is escaped to printable ASCII: no line break, no terminal escape, no look-alike", () => {
    const v = verifier();
    const cases: [string, string][] = [
      ['api\n2030-01-01 INFO admin login ok', '"api\\u000a2030-01-01 INFO admin login ok"'],
      ['api\r\u2028\u2029', '"api\\u000d\\u2028\\u2029"'],
      ['\u001b[2Japi', '"\\u001b[2Japi"'],
      ['\u0430pi', '"\\u0430pi"'],
      ['ap\u200bi', '"ap\\u200bi"'],
      ['a\u202epi', '"a\\u202epi"'],
      ['"api", "admin"', '"\\"api\\", \\"admin\\""'],
      ['a\\pi', '"a\\\\pi"'],
      ['\ud800api', '"\\ud800api"'],
      ['api\u0085\u009b', '"api\\u0085\\u009b"'],
      ['\u{1F600}', '"\\ud83d\\ude00"'],
    ];
    for (const [aud, shown] of cases) {
      const error = refusal(() => v.verify(token({ ...CLAIMS, aud })), 'ERR_JWT_AUDIENCE');
      assert.equal(
        error.message,
        `${AUDIENCE_SENTENCE} The token's aud is ${shown}; this verifier accepts "api".`,
      );
      assert.match(error.message, /^[\x20-\x7e]*$/);
      // What is shown is the JSON string of the value: a reader can paste it back.
      assert.equal(JSON.parse(shown), aud);
    }
  });

  it("the token's value is cut at 100 characters, escapes whole, and its length said", () => {
    const v = verifier();
    const long = `https://auth.example/${'x'.repeat(5000)}`;
    const error = refusal(() => v.verify(token({ ...CLAIMS, iss: long })), 'ERR_JWT_ISSUER');
    assert.equal(
      error.message,
      `${ISSUER_SENTENCE} The token's iss is "${long.slice(0, 100)}"... (5021 characters); ` +
        'this verifier accepts "https://auth.example".',
    );
    // An escape is never split: 16 of them fill 96 characters, a 17th would pass 100.
    const escaped = refusal(
      () => v.verify(token({ ...CLAIMS, iss: '\n'.repeat(40) })),
      'ERR_JWT_ISSUER',
    );
    assert.ok(
      escaped.message.includes(`is "${'\\u000a'.repeat(16)}"... (40 characters);`),
      escaped.message,
    );
    // However long the token may be, the message stays one short line.
    const wide = refusal(
      () =>
        verifier({ maxTokenLength: 1_000_000 }).verify(
          token({ ...CLAIMS, aud: Array.from({ length: 300 }, () => 'y'.repeat(1000)) }),
        ),
      'ERR_JWT_AUDIENCE',
    );
    assert.ok(wide.message.length < 700, `${wide.message.length} characters`);
    assert.ok(wide.message.includes('... (300 items)]'), wide.message);
  });

  it('a value of another type is named by its type, never printed', () => {
    assert.equal(shownClaim(42), 'a number');
    assert.equal(shownClaim(true), 'a boolean');
    assert.equal(shownClaim(null), 'null');
    assert.equal(shownClaim({ secret: 'x' }), 'an object');
    assert.equal(shownClaim(undefined), 'undefined');
    assert.equal(
      shownClaim(['api', 7, null, ['x'], { a: 1 }]),
      '["api", a number, null, an array, ... (5 items)]',
    );
  });

  it('the revocable verifier, and a verifier with the cache, say the same', () => {
    const index = createRevocationIndex({ now, maxAccessTokenLifetime: '10m' });
    const scope = { keys: ring, issuer: ISSUER, audience: 'api', now };
    const bad = token({ ...CLAIMS, iss: 'https://auth.example/', aud: 'web' });
    const expected = refusal(() => verifier().verify(bad), 'ERR_JWT_ISSUER').message;
    for (const v of [
      createRevocableVerifier({ ...scope, index }),
      createRevocableVerifier({ ...scope, index, cache: true }),
      createVerifier({ ...scope, cache: true }),
    ]) {
      assert.equal(refusal(() => v.verify(bad), 'ERR_JWT_ISSUER').message, expected);
      const wrongAudience = token({ ...CLAIMS, aud: 'web' });
      assert.equal(
        refusal(() => v.verify(wrongAudience), 'ERR_JWT_AUDIENCE').message,
        `${AUDIENCE_SENTENCE} The token's aud is "web"; this verifier accepts "api".`,
      );
    }
  });
});

describe('an HTTP answer says only which check failed', () => {
  it('the 401 body of the middleware and of the auth server is the fixed sentence, as before', () => {
    const v = verifier({ audience: ['api', 'admin'] });
    const cases: [string, ErrorCode, string][] = [
      [token({ ...CLAIMS, iss: 'https://auth.example/' }), 'ERR_JWT_ISSUER', ISSUER_SENTENCE],
      [token({ ...CLAIMS, aud: ['web', 'x'] }), 'ERR_JWT_AUDIENCE', AUDIENCE_SENTENCE],
    ];
    for (const [bad, code, sentence] of cases) {
      const error = refusal(() => v.verify(bad), code);
      // The log's message begins with the client's sentence and goes on; the client gets the start.
      assert.ok(error.message.startsWith(`${sentence} The token's`), error.message);
      const answer = errorAnswer(error);
      assert.equal(answer.status, 401);
      assert.deepEqual(answer.body, { error: code, message: sentence });
      const described = describeError(error);
      assert.equal(described.status, 401);
      assert.deepEqual(described.body, { error: code, message: sentence });
      assert.ok(!JSON.stringify(answer).includes('admin'));
      assert.ok(!JSON.stringify(described).includes('admin'));
    }
  });
});
