// The verifier's `cache` option: a token verified once is answered from memory afterwards, and the
// answer is always the one a verifier without the cache gives (property test), whatever happens to
// the clock and the key ring in between.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isRevocableError, RevocableError } from '../../src/errors/index.js';
import {
  createSigner,
  createVerifier,
  generateKey,
  type JwtClaims,
  type JwtHeader,
  type JwtKey,
  KeyRing,
  signJwt,
  type Verifier,
} from '../../src/jwt/index.js';
import {
  createGlobalRevocation,
  createKeyRevocation,
  createRevocableVerifier,
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
} from '../../src/revocation/index.js';
import { manualClock, newIndex, throwsCode, timingFor } from '../revocation/helpers.js';

// These tests are about other checks: any issuer and audience is accepted on purpose.
const ANY = { issuer: null, audience: null } as const;

const T0 = 1_800_000_000;
// The iss and aud every access token carries: the default verifier requires them (RFC 9068).
const ISSUED = { issuer: 'https://auth.example', audience: 'api' };

/** Signs with `key` whatever its state in the ring; `kid: false` leaves the kid out. */
function signWith(key: JwtKey, claims: JwtClaims, options: { kid?: false } = {}): string {
  const signing = { ...key, state: 'active' as const };
  // JSON.stringify leaves an undefined member out of the header.
  if (options.kid === false) (signing as { kid: string | undefined }).kid = undefined;
  return signJwt(claims, signing);
}

function outcome(
  verifier: Verifier,
  token: string,
): { claims: JwtClaims; header: JwtHeader } | { code: string } {
  try {
    const { claims, header } = verifier.verifyJwt(token);
    return { claims, header };
  } catch (error) {
    if (!(error instanceof RevocableError)) throw error;
    return { code: error.code };
  }
}

describe('verification cache', () => {
  it('a second verify of a token returns the same frozen claims object', () => {
    const ring = KeyRing.generate('HS256');
    const now = manualClock(T0);
    const token = createSigner({ keys: ring, ...ISSUED, now }).sign({ sub: 'u1', roles: ['user'] });
    const verifier = createVerifier({ ...ANY, keys: ring, now, cache: true });
    const first = verifier.verify(token);
    const second = verifier.verify(token);
    assert.equal(second, first);
    assert.ok(Object.isFrozen(first));
    assert.ok(Object.isFrozen(first.roles));
    assert.throws(() => {
      (first.roles as string[]).push('admin');
    }, TypeError);
    assert.deepEqual(verifier.verify(token).roles, ['user']);
    // Without the cache, every verify parses its own claims, which the caller may change.
    const plain = createVerifier({ ...ANY, keys: ring, now });
    assert.notEqual(plain.verify(token), plain.verify(token));
    assert.ok(!Object.isFrozen(plain.verify(token)));
  });

  it('checks exp, nbf and iat again on every hit, with the same tolerance', () => {
    const ring = KeyRing.generate('HS256');
    const time = manualClock(T0);
    const token = createSigner({ keys: ring, ...ISSUED, now: time, ttl: 60 }).sign({
      sub: 'u1',
      nbf: T0,
    });
    const verifier = createVerifier({
      ...ANY,
      keys: ring,
      now: time,
      cache: true,
      clockTolerance: 5,
    });
    assert.equal(verifier.verify(token).exp, T0 + 60);
    time.advance(64);
    assert.equal(verifier.verify(token).exp, T0 + 60);
    time.advance(1);
    assert.throws(
      () => verifier.verify(token),
      (error) => isRevocableError(error, 'ERR_JWT_EXPIRED'),
    );
    // A clock that goes back (a corrected NTP step) meets nbf and iat again.
    time.advance(-71);
    assert.throws(
      () => verifier.verify(token),
      (error) => isRevocableError(error, 'ERR_JWT_NOT_YET_VALID'),
    );
    const issued = createSigner({ keys: ring, ...ISSUED, now: time }).sign({ sub: 'u1' });
    assert.equal(verifier.verify(issued).iat, T0 - 6);
    time.advance(-5);
    assert.equal(verifier.verify(issued).iat, T0 - 6);
    time.advance(-1);
    assert.throws(
      () => verifier.verify(issued),
      (error) => isRevocableError(error, 'ERR_JWT_IAT_FUTURE'),
    );
  });

  it('a key retired or added after the token was cached takes effect at once', () => {
    const ring = KeyRing.generate('HS256', { kid: 'a' });
    const now = manualClock(T0);
    const withKid = createSigner({ keys: ring, ...ISSUED, now }).sign({ sub: 'u1' });
    const withoutKid = signWith(
      ring.get('a')!,
      { sub: 'u2', iss: ISSUED.issuer, aud: ISSUED.audience, jti: 'j2', iat: T0, exp: T0 + 600 },
      { kid: false },
    );
    const verifier = createVerifier({ ...ANY, keys: ring, now, cache: true });
    assert.equal(verifier.verify(withKid).sub, 'u1');
    assert.equal(verifier.verify(withoutKid).sub, 'u2');
    const revision = ring.revision;
    ring.add(generateKey('HS256', { kid: 'b', state: 'verify-only' }));
    assert.notEqual(ring.revision, revision);
    assert.throws(
      () => verifier.verify(withoutKid),
      (error) => isRevocableError(error, 'ERR_JWT_KID_MISSING'),
    );
    assert.equal(verifier.verify(withKid).sub, 'u1');
    const beforeRetire = ring.revision;
    ring.retire('a');
    assert.notEqual(ring.revision, beforeRetire);
    assert.throws(
      () => verifier.verify(withKid),
      (error) => isRevocableError(error, 'ERR_JWT_KEY_RETIRED'),
    );
  });

  it("a forgery that reuses a cached token's signature is checked in full and refused", () => {
    const ring = KeyRing.generate('HS256');
    const now = manualClock(T0);
    const signer = createSigner({ keys: ring, ...ISSUED, now });
    const token = signer.sign({ sub: 'u1' });
    const verifier = createVerifier({ ...ANY, keys: ring, now, cache: true });
    verifier.verify(token);
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'admin', exp: T0 + 600 })).toString(
      'base64url',
    );
    // The cache finds a candidate by the first characters of the signature; the comparison decides.
    const samePrefix = `${signature!.slice(0, 8)}${'A'.repeat(signature!.length - 8)}`;
    // Same length as the cached token, its signature, one payload character changed; and the
    // signature's last character changed.
    const dot = token.indexOf('.') + 1;
    const samePayloadLength = `${token.slice(0, dot)}${token[dot] === 'e' ? 'f' : 'e'}${token.slice(dot + 1)}`;
    const lastDot = token.lastIndexOf('.');
    const moved = `${token.slice(0, lastDot - 1)}.${token[lastDot - 1]}${token.slice(lastDot + 1)}`;
    for (const forged of [
      samePayloadLength,
      moved,
      `${header}.${payload}.${signature}`,
      `${header}.${payload}.${samePrefix}`,
      `${token.split('.').slice(0, 2).join('.')}.${samePrefix}`,
      `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
      `${token}x`,
      `x${token}`,
      signature!,
      `.${signature}`,
    ]) {
      assert.throws(
        () => verifier.verify(forged),
        (error) => error instanceof RevocableError && error.code !== 'ERR_INVALID_ARGUMENT',
        forged,
      );
    }
    assert.equal(verifier.verify(token).sub, 'u1');
  });

  it('when full of live tokens, admits a new one only sometimes, in place of the oldest', (t) => {
    const ring = KeyRing.generate('HS256');
    const now = manualClock(T0);
    const signer = createSigner({ keys: ring, ...ISSUED, now });
    const [a, b, c] = [
      signer.sign({ sub: 'a' }),
      signer.sign({ sub: 'b' }),
      signer.sign({ sub: 'c' }),
    ];
    const verifier = createVerifier({ ...ANY, keys: ring, now, cache: 2 });
    const first = [verifier.verify(a!), verifier.verify(b!)];
    const random = t.mock.method(Math, 'random', () => 0.99);
    const missed = verifier.verify(c!);
    // Not kept, yet frozen like a hit's claims: a caller cannot tell the two apart by them.
    assert.ok(Object.isFrozen(missed));
    assert.notEqual(verifier.verify(c!), missed);
    assert.equal(verifier.verify(a!), first[0]);
    assert.equal(verifier.verify(b!), first[1]);
    random.mock.mockImplementation(() => 0);
    const kept = verifier.verify(c!);
    assert.equal(verifier.verify(c!), kept);
    assert.equal(verifier.verify(b!), first[1]);
    random.mock.mockImplementation(() => 0.99);
    // The first token was dropped to make room: it is verified afresh.
    const again = verifier.verify(a!);
    assert.notEqual(again, first[0]);
    assert.deepEqual(again, first[0]);
    assert.ok(Object.isFrozen(again));
  });

  it('stays consistent through many replacements: the last tokens kept hit, the others do not', (t) => {
    const ring = KeyRing.generate('HS256');
    const now = manualClock(T0);
    const signer = createSigner({ keys: ring, ...ISSUED, now });
    const verifier = createVerifier({ ...ANY, keys: ring, now, cache: 3 });
    t.mock.method(Math, 'random', () => 0);
    const tokens = Array.from({ length: 200 }, (_, i) => signer.sign({ sub: `u${i}` }));
    const kept = tokens.map((token) => verifier.verify(token));
    for (const [i, token] of tokens.entries()) {
      if (i < tokens.length - 3) continue;
      assert.equal(verifier.verify(token), kept[i], `token ${i}`);
    }
    t.mock.method(Math, 'random', () => 0.99);
    for (const [i, token] of tokens.slice(0, -3).entries()) {
      assert.notEqual(verifier.verify(token), kept[i], `token ${i}`);
    }
  });

  it('reuses the slot of a token known to have expired before anything else', (t) => {
    const ring = KeyRing.generate('HS256');
    const now = manualClock(T0);
    const signer = createSigner({ keys: ring, ...ISSUED, now, ttl: 60 });
    const old = [signer.sign({ sub: 'a' }), signer.sign({ sub: 'b' })];
    // Tokens without iat are not access tokens by RFC 9068; this verifier accepts them on purpose.
    const verifier = createVerifier({
      ...ANY,
      keys: ring,
      now,
      cache: 2,
      clockTolerance: 5,
      requiredClaims: ['exp'],
    });
    for (const token of old) verifier.verify(token);
    t.mock.method(Math, 'random', () => 0.99);
    // A miss learns the time from the new token's iat, less the tolerance (a lower bound of the
    // clock, without reading it): here T0 + 59, when the oldest token is still live.
    now.advance(64);
    const early = signer.sign({ sub: 'c' });
    now.advance(6);
    const missed = verifier.verify(early);
    assert.notEqual(verifier.verify(early), missed);
    // From a token issued at T0 + 70: at least T0 + 65, when the old ones are dead with tolerance.
    const fresh = [signer.sign({ sub: 'd' }), signer.sign({ sub: 'e' })];
    for (const token of fresh) {
      const claims = verifier.verify(token);
      assert.equal(verifier.verify(token), claims);
    }
    // A token without iat: the clock itself, past the new ones' exp (T0 + 130) with tolerance.
    now.advance(66);
    const noIat = signWith(ring.active, { sub: 'f', exp: T0 + 600 });
    const claims = verifier.verify(noIat);
    assert.equal(verifier.verify(noIat), claims);
  });

  it('claims that share strings with other cached tokens keep their own values', () => {
    const ring = KeyRing.generate('HS256');
    const now = manualClock(T0);
    const signer = createSigner({
      keys: ring,
      now,
      issuer: 'https://auth.example',
      audience: 'api',
    });
    const verifier = createVerifier({ ...ANY, keys: ring, now, cache: 8 });
    const plain = createVerifier({ ...ANY, keys: ring, now });
    const tokens = ['a', 'b', 'a', 'c'].map((role, i) => signer.sign({ sub: `u${i}`, role }));
    for (const token of tokens) verifier.verify(token);
    for (const token of tokens) {
      const claims = verifier.verify(token);
      assert.equal(verifier.verify(token), claims);
      assert.deepEqual(claims, plain.verify(token));
    }
  });

  it('a revocation of any kind after the token was cached is in force: the index is consulted on every hit', () => {
    const kinds = [
      (timing: ReturnType<typeof timingFor>, jti: string, exp: number) =>
        createTokenRevocation({ jti, exp }, timing),
      (timing: ReturnType<typeof timingFor>) => createSessionRevocation({ sid: 's1' }, timing),
      (timing: ReturnType<typeof timingFor>) =>
        createSubjectRevocation({ sub: 'u1', gen: 2 }, timing),
      (timing: ReturnType<typeof timingFor>) => createGlobalRevocation({}, timing),
      (timing: ReturnType<typeof timingFor>, _jti: string, _exp: number, kid: string) =>
        createKeyRevocation({ kid }, timing),
    ];
    for (const revocation of kinds) {
      const now = manualClock();
      const ring = KeyRing.generate('HS256');
      const index = newIndex(now);
      const token = createSigner({ keys: ring, ...ISSUED, now }).sign({
        sub: 'u1',
        sid: 's1',
        sgen: 1,
      });
      const verifier = createRevocableVerifier({ ...ANY, keys: ring, index, cache: true });
      const claims = verifier.verify(token);
      assert.equal(verifier.verify(token), claims);
      assert.equal(verifier.verifyJwt(token).header.alg, 'HS256');
      now.advance(1);
      index.apply(revocation(timingFor(now), claims.jti!, claims.exp!, ring.active.kid));
      throwsCode(() => verifier.verify(token), 'ERR_TOKEN_REVOKED');
    }
  });

  it("a hit hands the index its own token's kid, not the last verified token's", () => {
    const now = manualClock();
    const ring = KeyRing.generate('HS256', { kid: 'a' });
    const first = createSigner({ keys: ring, ...ISSUED, now }).sign({ sub: 'u1' });
    ring.rotate('HS256', { kid: 'b' });
    const second = createSigner({ keys: ring, ...ISSUED, now }).sign({ sub: 'u2' });
    const index = newIndex(now);
    const verifier = createRevocableVerifier({ ...ANY, keys: ring, index, cache: true });
    verifier.verify(first);
    verifier.verify(second);
    now.advance(1);
    index.apply(createKeyRevocation({ kid: 'a' }, timingFor(now)));
    verifier.verify(second);
    throwsCode(() => verifier.verify(first), 'ERR_TOKEN_REVOKED');
    assert.equal(verifier.verify(second).sub, 'u2');
    assert.equal(verifier.verifyJwt(second).header.kid, 'b');
  });

  it('refuses a cache option that is not a boolean or a size', () => {
    const ring = KeyRing.generate('HS256');
    for (const cache of [-1, 1.5, 2_000_000, Number.NaN, '10', {}, null]) {
      assert.throws(
        () => createVerifier({ ...ANY, keys: ring, cache: cache as unknown as number }),
        (error) => isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
        String(cache),
      );
    }
    for (const cache of [true, false, 0, 1, 1_000_000])
      createVerifier({ ...ANY, keys: ring, cache });
    // A ring-like object without a revision could change without the cache noticing.
    const lookalike = {
      get: ring.get.bind(ring),
      soleKeyFor: ring.soleKeyFor.bind(ring),
      hasKeyFor: ring.hasKeyFor.bind(ring),
    };
    createVerifier({ ...ANY, keys: lookalike as unknown as KeyRing });
    assert.throws(
      () => createVerifier({ ...ANY, keys: lookalike as unknown as KeyRing, cache: true }),
      (error) => isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
    );
  });

  it('answers exactly as a verifier without the cache, through any sequence of verifies, clock moves and key changes', (t) => {
    const command = fc.oneof(
      fc.record({ verify: fc.nat(11) }),
      fc.record({ advance: fc.integer({ min: -120, max: 400 }) }),
      fc.record({ retire: fc.constantFrom('a', 'b') }),
      fc.record({ restore: fc.constantFrom('a', 'b') }),
      fc.record({ addKey: fc.constant(true) }),
    );
    const random = t.mock.method(Math, 'random');
    fc.assert(
      fc.property(
        fc.array(command, { maxLength: 40 }),
        fc.constantFrom(0, 5),
        fc.constantFrom(1, 4, 16),
        // What Math.random returns, in turn, to the cache's admission of a token when it is full.
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1 }),
        (commands, skew, capacity, draws) => {
          let draw = 0;
          random.mock.mockImplementation(() => draws[draw++ % draws.length]!);
          const ring = KeyRing.generate('HS256', { kid: 'a' });
          ring.add(generateKey('HS256', { kid: 'b', state: 'verify-only' }));
          const time = manualClock(T0);
          const a = ring.get('a')!;
          const b = ring.get('b')!;
          const tokens: string[] = [];
          for (const key of [a, b]) {
            for (const claims of [
              { sub: 'x', iat: T0, exp: T0 + 300 },
              { sub: 'y', iat: T0 + 30, exp: T0 + 600 },
              { sub: 'z', nbf: T0 + 60, exp: T0 + 200 },
              { sub: 'w', iat: T0 - 100, exp: T0 + 100, aud: 'api' },
            ]) {
              tokens.push(signWith(key, claims));
            }
          }
          // Tokens without kid (valid while one usable HS256 key is left) and a forgery.
          tokens.push(signWith(a, { sub: 'v', exp: T0 + 500 }, { kid: false }));
          tokens.push(signWith(b, { sub: 'u', exp: T0 + 500 }, { kid: false }));
          const [h, , s] = tokens[0]!.split('.');
          tokens.push(`${h}.${Buffer.from('{"sub":"x","exp":1}').toString('base64url')}.${s}`);
          tokens.push(`${tokens[1]!.slice(0, -2)}AA`);
          const options = { ...ANY, keys: ring, now: time, clockTolerance: skew, typ: null };
          const plain = createVerifier(options);
          const cached = createVerifier({ ...options, cache: capacity });
          let added = 0;
          for (const step of commands) {
            if ('verify' in step) {
              const token = tokens[step.verify]!;
              assert.deepEqual(outcome(cached, token), outcome(plain, token));
            } else if ('advance' in step) {
              time.advance(step.advance);
            } else if ('retire' in step) {
              ring.retire(step.retire);
            } else if ('restore' in step) {
              ring.setState(step.restore, 'verify-only');
            } else if (added < 3) {
              ring.add(generateKey('HS256', { kid: `new${added++}`, state: 'verify-only' }));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
