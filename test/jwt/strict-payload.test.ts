// The strict rules of issue 12, each attacked with a token that a key of the ring really signed:
// the signature holds, so only the rule itself can refuse the token. Tokens are built from raw
// bytes with node:crypto, never with revocable's signer, whose JSON encoder could not produce them.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { type ErrorCode, JwtClaimError, RevocableError } from '../../src/errors/index.js';
import {
  ACCESS_TOKEN_CLAIMS,
  createSigner,
  createVerifier,
  DEFAULT_MAX_PAYLOAD_DEPTH,
  KeyRing,
  type PayloadChecks,
  type VerifierOptions,
} from '../../src/jwt/index.js';

// These tests are about other checks: any issuer and audience is accepted on purpose.
const ANY = { issuer: null, audience: null } as const;

const NOW = 1_800_000_000;
const now = () => NOW;
const ring = KeyRing.generate('HS256', { kid: 'hs' });
const secret = ring.active.signKey!;
const HEADER = { alg: 'HS256', typ: 'at+jwt', kid: 'hs' };

/** Every claim an access token needs under the default rules. */
const FULL = {
  iss: 'https://auth.example',
  aud: 'api',
  sub: 'u1',
  sid: 's1',
  jti: 'j1',
  iat: NOW,
  exp: NOW + 600,
};

/** The FULL claims as JSON text without the closing brace, to append raw members to. */
const OPEN = JSON.stringify(FULL).slice(0, -1);

function b64(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

/** A token whose header and payload are exactly these bytes (or UTF-8 texts), HS256-signed. */
function forge(payload: string | Uint8Array, header: string | Uint8Array = JSON.stringify(HEADER)) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${b64(createHmac('sha256', secret).update(input).digest())}`;
}

function verifier(options: Partial<VerifierOptions> = {}) {
  return createVerifier({ ...ANY, keys: ring, now, ...options });
}

const strict = verifier();

function rejects(fn: () => unknown, code: ErrorCode, label?: string): RevocableError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof RevocableError, `${label ?? code}: expected a RevocableError`);
  assert.equal(caught.code, code, `${label ?? code}: ${caught.message}`);
  return caught;
}

describe('the header', () => {
  it('a kid with a lone surrogate or a control character is ERR_JWT_MALFORMED', () => {
    for (const kid of ['hs\ud800', '\udc00hs', 'h\u0000s', 'hs\n', 'hs\u007f', 'hs\u0085']) {
      const header = JSON.stringify({ ...HEADER, kid });
      rejects(() => strict.verify(forge(JSON.stringify(FULL), header)), 'ERR_JWT_MALFORMED', kid);
    }
  });

  it('a header that is not valid UTF-8 is ERR_JWT_MALFORMED', () => {
    const header = Buffer.concat([
      Buffer.from('{"alg":"HS256","typ":"at+jwt","kid":"hs","x":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    rejects(() => strict.verify(forge(JSON.stringify(FULL), header)), 'ERR_JWT_MALFORMED');
    // The same header with a U+FFFD written out in valid UTF-8 is fine.
    const valid = JSON.stringify({ ...HEADER, x: '\ufffd' });
    assert.equal(strict.verify(forge(JSON.stringify(FULL), valid)).sub, 'u1');
  });

  it('is frozen to its last nested member, so no caller can change what the next one reads', () => {
    const header = JSON.stringify({ ...HEADER, ext: { tags: ['a'], inner: { deep: 1 } } });
    const token = forge(JSON.stringify(FULL), header);
    const first = strict.verifyJwt(token).header.ext as { tags: string[]; inner: object };
    assert.ok(Object.isFrozen(first));
    assert.ok(Object.isFrozen(first.tags));
    assert.ok(Object.isFrozen(first.inner));
    assert.throws(() => first.tags.push('b'), TypeError);
    assert.throws(() => {
      (first.inner as Record<string, unknown>).deep = 2;
    }, TypeError);
    assert.deepEqual(strict.verifyJwt(token).header.ext, { tags: ['a'], inner: { deep: 1 } });
  });
});

function claimError(fn: () => unknown, code: ErrorCode, claim: string): void {
  const error = rejects(fn, code, claim);
  assert.ok(error instanceof JwtClaimError);
  assert.equal(error.claim, claim);
}

describe('the defaults', () => {
  it("a token of this library's signer passes every default rule", () => {
    const signer = createSigner({ keys: ring, now, issuer: FULL.iss, audience: 'api' });
    const token = signer.sign({ sub: 'u1', sid: 's1', roles: ['a'], profile: { name: 'Zoë 😀' } });
    const claims = strict.verify(token);
    assert.equal(claims.sub, 'u1');
    assert.deepEqual(claims.profile, { name: 'Zoë 😀' });
  });

  it('an at+jwt verifier requires iss, exp, aud, sub, iat and jti, each one missing is refused', () => {
    assert.deepEqual([...ACCESS_TOKEN_CLAIMS], ['iss', 'exp', 'aud', 'sub', 'iat', 'jti']);
    for (const claim of ACCESS_TOKEN_CLAIMS) {
      const claims: Record<string, unknown> = { ...FULL };
      delete claims[claim];
      claimError(
        () => strict.verify(forge(JSON.stringify(claims))),
        'ERR_JWT_CLAIM_MISSING',
        claim,
      );
      // Also with typ given explicitly, in another spelling.
      claimError(
        () => verifier({ typ: 'application/AT+JWT' }).verify(forge(JSON.stringify(claims))),
        'ERR_JWT_CLAIM_MISSING',
        claim,
      );
    }
  });

  it('requiredClaims replaces the default; another typ or typ null keeps requiring only exp', () => {
    const onlySub = JSON.stringify({ sub: 'u1', exp: NOW + 60 });
    assert.equal(verifier({ requiredClaims: ['exp'] }).verify(forge(onlySub)).sub, 'u1');
    assert.equal(verifier({ typ: null }).verify(forge(onlySub)).sub, 'u1');
    const jwtHeader = JSON.stringify({ ...HEADER, typ: 'JWT' });
    assert.equal(verifier({ typ: 'JWT' }).verify(forge(onlySub, jwtHeader)).sub, 'u1');
    claimError(
      () => verifier({ typ: null }).verify(forge(JSON.stringify({ sub: 'u1' }))),
      'ERR_JWT_CLAIM_MISSING',
      'exp',
    );
  });
});

describe('payload rules: each refuses its attack and each relax option lets it through', () => {
  const cases: {
    rule: string;
    relax: PayloadChecks;
    payloads: (string | Uint8Array)[];
  }[] = [
    {
      rule: 'utf8: bytes that are not UTF-8',
      relax: { utf8: false },
      // A lone continuation byte, an overlong "/", a UTF-8-encoded surrogate, a truncated sequence.
      payloads: [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]].map((bytes) =>
        Buffer.concat([Buffer.from(`${OPEN},"x":"`), Buffer.from(bytes), Buffer.from('"}')]),
      ),
    },
    {
      rule: 'duplicateMembers: a repeated name, top level, nested, in arrays, escaped',
      relax: { duplicateMembers: false },
      payloads: [
        `${OPEN},"sub":"admin"}`,
        `${OPEN},"x":{"a":1,"a":2}}`,
        `${OPEN},"x":[{"a":1},{"b":{"c":1,"c":1}}]}`,
        `${OPEN},"\\u0073ub":"admin"}`,
        `${OPEN},"x":{"a":1,"\\u0061":2}}`,
        `${OPEN},"x":{"a" :1, "a"\n:2}}`,
        // A string value that starts with a colon, and names with a space before their colon.
        `${OPEN},"x":":","y" : 1,"y":2}`,
        `${OPEN},"x":":a","y":1,"y":2}`,
        `${OPEN},"scope":"read:users write:users","https://example.com/roles":["a:b"],"scope":""}`,
        `{"iss":"${FULL.iss}","iss":"https://evil.example",${OPEN.slice(1)}}`,
      ],
    },
    {
      rule: 'prototypeMembers: __proto__ and constructor, top level, nested, escaped',
      relax: { prototypeMembers: false },
      payloads: [
        `${OPEN},"__proto__":{"admin":true}}`,
        `${OPEN},"constructor":{"prototype":{"admin":true}}}`,
        `${OPEN},"x":{"y":{"__proto__":{"admin":true}}}}`,
        `${OPEN},"x":[{"constructor":1}]}`,
        `${OPEN},"\\u005f_proto__":{"admin":true}}`,
        `${OPEN},"x":{"\\u0063onstructor":1}}`,
      ],
    },
    {
      rule: `maxDepth: nesting deeper than ${DEFAULT_MAX_PAYLOAD_DEPTH} levels`,
      relax: { maxDepth: Number.POSITIVE_INFINITY },
      payloads: [
        `${OPEN},"x":${'['.repeat(DEFAULT_MAX_PAYLOAD_DEPTH)}${']'.repeat(DEFAULT_MAX_PAYLOAD_DEPTH)}}`,
        `${OPEN},"x":${'{"a":'.repeat(DEFAULT_MAX_PAYLOAD_DEPTH)}1${'}'.repeat(DEFAULT_MAX_PAYLOAD_DEPTH)}}`,
        `${OPEN},"x":${'[{"a":'.repeat(700)}1${'}]'.repeat(700)}}`,
      ],
    },
  ];

  for (const { rule, relax, payloads } of cases) {
    it(rule, () => {
      const relaxed = verifier({ payloadChecks: relax });
      for (const payload of payloads) {
        const token = forge(payload);
        const label = Buffer.from(payload).toString('latin1').slice(0, 120);
        rejects(() => strict.verify(token), 'ERR_JWT_MALFORMED', label);
        assert.equal(relaxed.verify(token).iss, FULL.iss, label);
      }
    });
  }

  it('what the rules must not refuse: a valid U+FFFD, names repeated in separate objects or inside strings, the depth limit itself', () => {
    const depth = DEFAULT_MAX_PAYLOAD_DEPTH - 1;
    for (const payload of [
      `${OPEN},"x":"\\ufffd \ufffd"}`,
      `${OPEN},"x":{"sub":1},"y":[{"a":1},{"a":2}]}`,
      `${OPEN},"x":"\\"sub\\":\\"admin\\""}`,
      `${OPEN},"a\\\\":1,"a":2}`,
      `${OPEN} , "x" : [ { "a" : 1 } ] }`,
      `${OPEN},"x":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      `${OPEN},"proto":1,"__proto":2,"constructors":3}`,
    ]) {
      assert.equal(strict.verify(forge(payload)).sub, FULL.sub, payload);
    }
    const deeper = verifier({ payloadChecks: { maxDepth: 12 } });
    const twelve = `${OPEN},"x":${'['.repeat(11)}${']'.repeat(11)}}`;
    assert.equal(deeper.verify(forge(twelve)).sub, FULL.sub);
    rejects(() => strict.verify(forge(twelve)), 'ERR_JWT_MALFORMED');
  });

  it('identifierClaims: a lone surrogate or a control character in sub, sid or jti is ERR_JWT_CLAIM_INVALID', () => {
    const relaxed = verifier({ payloadChecks: { identifierClaims: false } });
    for (const claim of ['sub', 'sid', 'jti']) {
      for (const bad of [
        'u\ud800',
        '\udfffu',
        'u\u0000',
        'u\r\nX-Admin: 1',
        'u\u007f',
        'u\u009b',
      ]) {
        const token = forge(JSON.stringify({ ...FULL, [claim]: bad }));
        const error = rejects(() => strict.verify(token), 'ERR_JWT_CLAIM_INVALID', claim);
        assert.ok(error instanceof JwtClaimError);
        assert.deepEqual([error.claim, error.reason], [claim, 'invalid']);
        assert.equal(relaxed.verify(token)[claim], bad);
      }
      // A well-formed surrogate pair and text outside ASCII are fine.
      const fine = forge(JSON.stringify({ ...FULL, [claim]: 'Zoë-😀' }));
      assert.equal(strict.verify(fine)[claim], 'Zoë-😀');
    }
    // A sid that is not a string would be skipped by the revocation index: refused either way.
    const numeric = forge(JSON.stringify({ ...FULL, sid: 7 }));
    claimError(() => relaxed.verify(numeric), 'ERR_JWT_CLAIM_INVALID', 'sid');
  });

  it('payloadChecks is checked: unknown rules, non-booleans and bad depths are ERR_INVALID_ARGUMENT', () => {
    for (const payloadChecks of [
      null,
      'off',
      { duplicateMember: false },
      { utf8: 'no' },
      { maxDepth: 0 },
      { maxDepth: 2.5 },
      { maxDepth: '8' },
    ]) {
      rejects(
        () => verifier({ payloadChecks: payloadChecks as PayloadChecks }),
        'ERR_INVALID_ARGUMENT',
        JSON.stringify(payloadChecks),
      );
    }
  });
});

describe('maxTokenLifetime', () => {
  it('refuses with ERR_JWT_LIFETIME a token whose exp - iat exceeds it; requires exp and iat', () => {
    const limited = verifier({ maxTokenLifetime: '10m' });
    assert.equal(limited.verify(forge(JSON.stringify({ ...FULL, exp: NOW + 600 }))).sub, 'u1');
    claimError(
      () => limited.verify(forge(JSON.stringify({ ...FULL, exp: NOW + 601 }))),
      'ERR_JWT_LIFETIME',
      'exp',
    );
    // exp in the year 9999 is not an access token; an old iat stretches the lifetime too.
    claimError(
      () => limited.verify(forge(JSON.stringify({ ...FULL, exp: 253402300799 }))),
      'ERR_JWT_LIFETIME',
      'exp',
    );
    claimError(
      () => limited.verify(forge(JSON.stringify({ ...FULL, iat: NOW - 3600 }))),
      'ERR_JWT_LIFETIME',
      'exp',
    );
    const noRequired = verifier({ maxTokenLifetime: 600, requiredClaims: [] });
    const { iat: _iat, ...noIat } = FULL;
    claimError(
      () => noRequired.verify(forge(JSON.stringify(noIat))),
      'ERR_JWT_CLAIM_MISSING',
      'iat',
    );
    // Without the option there is no limit.
    assert.equal(strict.verify(forge(JSON.stringify({ ...FULL, exp: 253402300799 }))).sub, 'u1');
    rejects(() => verifier({ maxTokenLifetime: '-1' }), 'ERR_INVALID_ARGUMENT');
  });
});
