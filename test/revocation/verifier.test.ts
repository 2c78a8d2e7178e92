import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { isRevocableError, RevocableError, TokenRevokedError } from '../../src/errors/index.js';
import { createSigner, type JwtClaims, KeyRing } from '../../src/jwt/index.js';
import {
  createGlobalRevocation,
  createKeyRevocation,
  createRevocableVerifier,
  createRevocationIndex,
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
  type RevocationRule,
} from '../../src/revocation/index.js';
import { LIFETIME, manualClock, newIndex, SKEW, T0, throwsCode, timingFor } from './helpers.js';

// These tests are about other checks: any issuer and audience is accepted on purpose.
const ANY = { issuer: null, audience: null } as const;

function setUp(options: { maxStaleness?: number } = {}) {
  const now = manualClock();
  const ring = KeyRing.generate('HS256');
  const signer = createSigner({ keys: ring, issuer: 'iss', audience: 'api', now });
  const index = newIndex(now);
  const verifier = createRevocableVerifier({
    keys: ring,
    issuer: 'iss',
    audience: 'api',
    index,
    ...options,
  });
  const sign = (claims: JwtClaims = {}) =>
    signer.sign({ sub: 'alice', sid: 'sid-1', sgen: 1, ...claims });
  return { now, ring, index, verifier, sign, timing: timingFor(now) };
}

function revokedWith(fn: () => unknown, rule: RevocationRule): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TokenRevokedError);
    assert.ok(error instanceof RevocableError);
    assert.ok(isRevocableError(error, 'ERR_TOKEN_REVOKED'));
    assert.equal(error.code, 'ERR_TOKEN_REVOKED');
    assert.equal(error.rule, rule);
    assert.equal(error.name, 'TokenRevokedError');
    assert.doesNotMatch(error.message, /alice|sid-1/);
    return true;
  });
}

describe('createRevocableVerifier', () => {
  it('returns the claims of a valid, unrevoked token', () => {
    const { verifier, sign } = setUp();
    const claims = verifier.verify(sign());
    assert.equal(claims.sub, 'alice');
    const { header } = verifier.verifyJwt(sign());
    assert.equal(header.typ, 'at+jwt');
  });

  it('token rule: the jti', () => {
    const { verifier, sign, index, now } = setUp();
    const token = sign();
    const { jti, exp } = verifier.verify(token);
    index.apply(createTokenRevocation({ jti: jti!, exp: exp! }, { now }));
    revokedWith(() => verifier.verify(token), 'token');
    assert.equal(verifier.verify(sign()).sub, 'alice', 'another token of the session is fine');
  });

  it('session rule: the sid', () => {
    const { verifier, sign, index, timing } = setUp();
    index.apply(createSessionRevocation({ sid: 'sid-1' }, timing));
    revokedWith(() => verifier.verify(sign()), 'session');
    assert.equal(verifier.verify(sign({ sid: 'sid-2' })).sid, 'sid-2');
  });

  it('subject rule: by generation, and by time without sgen', () => {
    const { verifier, sign, index, timing, now } = setUp();
    const old = sign({ sgen: 1 });
    const oldPlain = sign({ sgen: undefined });
    index.apply(createSubjectRevocation({ sub: 'alice', gen: 2 }, timing));
    revokedWith(() => verifier.verify(old), 'subject');
    revokedWith(() => verifier.verify(oldPlain), 'subject');
    assert.equal(verifier.verify(sign({ sgen: 2 })).sgen, 2, 'a new login at once is valid');
    now.advance(SKEW);
    assert.equal(verifier.verify(sign({ sgen: undefined })).sub, 'alice');
  });

  it('global rule: everything issued before the cut-off', () => {
    const { verifier, sign, index, timing, now } = setUp();
    const token = sign({ sub: 'bob' });
    index.apply(createGlobalRevocation({}, timing));
    revokedWith(() => verifier.verify(token), 'global');
    now.advance(SKEW);
    assert.equal(verifier.verify(sign()).sub, 'alice');
  });

  it('key rule: every token the kid signed, with or without a kid in the header', () => {
    const { verifier, sign, index, timing, ring, now } = setUp();
    const token = sign();
    const kid = ring.active.kid;
    // A token with no kid: verified by the ring's sole HS256 key, so that key's revocation applies.
    const segment = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${segment({ alg: 'HS256', typ: 'at+jwt' })}.${segment({ sub: 'carol', iss: 'iss', aud: 'api', jti: 'j-carol', iat: now(), exp: now() + 60 })}`;
    const signature = createHmac('sha256', ring.active.verifyKey).update(input).digest('base64url');
    const kidless = `${input}.${signature}`;
    assert.equal(verifier.verify(kidless).sub, 'carol');
    index.apply(createKeyRevocation({ kid }, timing));
    revokedWith(() => verifier.verify(token), 'key');
    revokedWith(() => verifier.verify(kidless), 'key');
  });

  it('signature and claims are checked first: an expired revoked token is ERR_JWT_EXPIRED', () => {
    const { verifier, sign, index, timing, now } = setUp();
    const token = sign();
    index.apply(createSessionRevocation({ sid: 'sid-1' }, timing));
    now.advance(601);
    throwsCode(() => verifier.verify(token), 'ERR_JWT_EXPIRED');
    const dot = token.lastIndexOf('.');
    const forged = `${token.slice(0, dot + 1)}${token[dot + 1] === 'A' ? 'B' : 'A'}${token.slice(dot + 2)}`;
    throwsCode(() => verifier.verify(forged), 'ERR_JWT_SIGNATURE');
  });

  it('refuses a clockTolerance beyond the index clock skew, and a missing index', () => {
    const ring = KeyRing.generate('HS256');
    const index = newIndex(manualClock());
    throwsCode(
      () => createRevocableVerifier({ ...ANY, keys: ring, index, clockTolerance: SKEW + 1 }),
      'ERR_INVALID_ARGUMENT',
    );
    createRevocableVerifier({ ...ANY, keys: ring, index, clockTolerance: SKEW });
    // Beside an index forgiving more skew than any verifier may, the verifier's own bound holds.
    const lax = createRevocationIndex({ maxAccessTokenLifetime: LIFETIME, clockSkew: '10m' });
    createRevocableVerifier({ ...ANY, keys: ring, index: lax, clockTolerance: '5m' });
    throwsCode(
      () => createRevocableVerifier({ ...ANY, keys: ring, index: lax, clockTolerance: 301 }),
      'ERR_INVALID_ARGUMENT',
    );
    throwsCode(
      () => createRevocableVerifier({ ...ANY, keys: ring } as never),
      'ERR_INVALID_ARGUMENT',
    );
    throwsCode(
      () => createRevocableVerifier({ ...ANY, keys: ring, index, onStale: 'open' as never }),
      'ERR_INVALID_ARGUMENT',
    );
  });
});

describe('createRevocableVerifier: token lifetime', () => {
  it("refuses a token living longer than the index's maxAccessTokenLifetime, which it would outlive", () => {
    const { verifier, ring, now, index } = setUp();
    const longer = createSigner({
      keys: ring,
      issuer: 'iss',
      audience: 'api',
      now,
      ttl: LIFETIME + 1,
    });
    const exact = createSigner({ keys: ring, issuer: 'iss', audience: 'api', now, ttl: LIFETIME });
    assert.equal(verifier.verify(exact.sign({ sub: 'alice' })).sub, 'alice');
    throwsCode(() => verifier.verify(longer.sign({ sub: 'alice' })), 'ERR_JWT_LIFETIME');
    // A token with exp in the year 9999 is not an access token.
    throwsCode(
      () => verifier.verify(longer.sign({ sub: 'alice' }, { ttl: 253402300799 - now() })),
      'ERR_JWT_LIFETIME',
    );
    // A shorter limit is allowed, a longer one is not; the clock skew is not added to it.
    const shorter = createRevocableVerifier({
      keys: ring,
      index,
      issuer: 'iss',
      audience: 'api',
      maxTokenLifetime: '5m',
    });
    throwsCode(() => shorter.verify(exact.sign({ sub: 'alice' })), 'ERR_JWT_LIFETIME');
    for (const maxTokenLifetime of [LIFETIME + 1, LIFETIME + SKEW, '1h']) {
      throwsCode(
        () => createRevocableVerifier({ ...ANY, keys: ring, index, maxTokenLifetime }),
        'ERR_INVALID_ARGUMENT',
      );
    }
  });
});

describe('createRevocableVerifier: staleness', () => {
  it('fail-closed: ERR_REVOCATION_STALE until the index hears from its source', () => {
    const { verifier, sign, index, now } = setUp({ maxStaleness: 30 });
    const token = sign();
    throwsCode(() => verifier.verify(token), 'ERR_REVOCATION_STALE');
    index.markFresh();
    assert.equal(verifier.verify(token).sub, 'alice');
    now.advance(30);
    assert.equal(verifier.verify(token).sub, 'alice');
    now.advance(1);
    throwsCode(() => verifier.verify(token), 'ERR_REVOCATION_STALE');
  });

  it('a revoked token is reported as revoked, stale or not', () => {
    const { verifier, sign, index, timing } = setUp({ maxStaleness: 30 });
    index.apply(createSessionRevocation({ sid: 'sid-1' }, timing));
    revokedWith(() => verifier.verify(sign()), 'session');
  });

  it('a callback policy decides, and is told the staleness', () => {
    const now = manualClock();
    const ring = KeyRing.generate('HS256');
    const index = newIndex(now);
    const seen: number[] = [];
    let accept = true;
    const verifier = createRevocableVerifier({
      ...ANY,
      keys: ring,
      index,
      maxStaleness: '10s',
      onStale: ({ staleness, claims }) => {
        seen.push(staleness);
        assert.equal(claims.sub, 'dave');
        return accept;
      },
    });
    const token = createSigner({ keys: ring, now, issuer: 'iss', audience: 'api' }).sign({
      sub: 'dave',
    });
    index.markFresh(T0 - 25);
    assert.equal(verifier.verify(token).sub, 'dave');
    accept = false;
    throwsCode(() => verifier.verify(token), 'ERR_REVOCATION_STALE');
    assert.deepEqual(seen, [25, 25]);
    index.markFresh();
    assert.equal(verifier.verify(token).sub, 'dave');
    assert.equal(seen.length, 2, 'not consulted while fresh');
  });
});
