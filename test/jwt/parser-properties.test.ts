// Property-based tests of the parser and verifier with fast-check: whatever the input, verify()
// returns claims or throws a RevocableError; no mutation of a signed token is ever accepted; and
// the strict base64url check agrees with a canonical round trip.
import assert from 'node:assert/strict';
import { createHmac, sign as cryptoSign } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES, RevocableError } from '../../src/errors/index.js';
import {
  decodeCanonical,
  decodedText,
  encodeBase64Url,
  isBase64Url,
} from '../../src/jwt/base64url.js';
import {
  ALGORITHM_NAMES,
  createVerifier,
  generateKey,
  type JwtClaims,
  KeyRing,
  signJwt,
  type Verifier,
} from '../../src/jwt/index.js';

// These tests are about other checks: any issuer and audience is accepted on purpose.
const ANY = { issuer: null, audience: null } as const;

const NOW = 1_800_000_000;
const now = () => NOW;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// HS256 and EdDSA carry the bulk: the asymmetric algorithms are slow to sign and verify.
const ring = KeyRing.generate('HS256', { kid: 'hs' });
ring.add(generateKey('EdDSA', { kid: 'ed', state: 'verify-only' }));
ring.add(generateKey('HS256', { kid: 'retired', state: 'retired' }));
const hs = ring.get('hs')!;
const ed = ring.get('ed')!;
// `ed` is verify-only in the ring; the tests sign with its private part through node:crypto.
const edPrivate = ed.signKey!;
const hsSecret = hs.signKey!;

const verifiers: Verifier[] = [
  createVerifier({ ...ANY, keys: ring, now }),
  // Every rule that can be relaxed, relaxed: polluted payloads then reach the accepting path.
  createVerifier({
    ...ANY,
    keys: ring,
    now,
    typ: null,
    requiredClaims: [],
    clockTolerance: 60,
    payloadChecks: {
      utf8: false,
      duplicateMembers: false,
      prototypeMembers: false,
      identifierClaims: false,
      maxDepth: Number.POSITIVE_INFINITY,
    },
  }),
  createVerifier({ keys: ring, now, issuer: 'iss', audience: ['api', 'web'], maxTokenLength: 600 }),
];

/** Verifies with every verifier: each must return a claims object or throw a RevocableError. */
function outcome(token: unknown): { accepted: boolean; codes: string[] } {
  let accepted = false;
  const codes: string[] = [];
  for (const verifier of verifiers) {
    try {
      const claims = verifier.verify(token as string);
      assert.equal(typeof claims, 'object');
      assert.ok(claims !== null && !Array.isArray(claims));
      accepted = true;
    } catch (error) {
      if (!(error instanceof RevocableError)) {
        throw new Error(`verify threw a non-RevocableError: ${String(error)}`, { cause: error });
      }
      assert.ok(Object.hasOwn(ERROR_CODES, error.code), error.code);
      codes.push(error.code);
    }
  }
  return { accepted, codes };
}

const b64ish = fc.string({
  unit: fc.constantFrom(...ALPHABET, '=', '+', '/', ' ', '.'),
  maxLength: 80,
});

const anyJson = fc.jsonValue({ maxDepth: 3 });
const alg = fc.oneof(
  fc.constantFrom(...ALGORITHM_NAMES, 'none', 'None', 'NONE', 'nOnE', '', 'HS256 ', 'hs256'),
  fc.string({ maxLength: 8 }),
  anyJson,
);
const kid = fc.oneof(
  fc.constantFrom('hs', 'ed', 'retired', 'nope', '', '__proto__', 'constructor'),
  fc.string({ maxLength: 10 }),
  anyJson,
);
const typ = fc.oneof(
  fc.constantFrom('at+jwt', 'AT+JWT', 'application/at+jwt', 'JWT', 'refresh+jwt'),
  fc.string({ maxLength: 10 }),
  anyJson,
);
// Mostly plausible headers, so that many tokens reach the signature and the claims; some with
// the members revocable refuses.
const plainHeader = fc.record(
  {
    alg: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('HS256', 'EdDSA') }, alg),
    kid: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('hs', 'ed') }, kid),
    typ: fc.oneof({ weight: 3, arbitrary: fc.constant('at+jwt') }, typ),
    cty: fc.oneof(fc.string({ maxLength: 5 }), anyJson),
    extra: anyJson,
  },
  { requiredKeys: ['alg'] },
);
const refusedMembers = fc.record(
  {
    crit: anyJson,
    b64: fc.boolean(),
    jwk: anyJson,
    jku: fc.string({ maxLength: 10 }),
    x5c: anyJson,
    zip: fc.constant('DEF'),
  },
  { requiredKeys: [] },
);
const headerArb = fc.oneof(
  { weight: 3, arbitrary: plainHeader },
  fc.tuple(plainHeader, refusedMembers).map(([header, refused]) => ({ ...header, ...refused })),
);
const time = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: NOW - 700, max: NOW + 700 }) },
  fc.double(),
  anyJson,
);
const claimsArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        exp: time,
        nbf: time,
        iat: time,
        iss: fc.oneof(fc.constantFrom('iss', 'other'), anyJson),
        aud: fc.oneof(
          fc.constantFrom('api', 'web', 'x'),
          fc.array(fc.constantFrom('api', 'x')),
          anyJson,
        ),
        sub: fc.oneof(fc.string({ maxLength: 10 }), anyJson),
        jti: fc.oneof(fc.string({ maxLength: 10 }), anyJson),
        constructor: anyJson,
      },
      { requiredKeys: [] },
    ),
  },
  anyJson,
);

const POLLUTION = '"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}';

/**
 * A header and payload encoded as given (the payload, when an object, optionally led by
 * `__proto__` and `constructor` members), signed for real when the header names a ring key.
 */
function encode(
  header: unknown,
  payload: unknown,
  pollute: boolean,
  signatureMode: 'real' | 'random',
  noise: string,
): string {
  let payloadText = JSON.stringify(payload);
  if (pollute && payloadText.startsWith('{')) {
    payloadText = payloadText === '{}' ? `{${POLLUTION}}` : `{${POLLUTION},${payloadText.slice(1)}`;
  }
  const input = `${encodeBase64Url(JSON.stringify(header))}.${encodeBase64Url(payloadText)}`;
  if (signatureMode === 'random') return `${input}.${noise}`;
  const algName = (header as { alg?: unknown } | null)?.alg;
  if (algName === 'EdDSA')
    return `${input}.${encodeBase64Url(cryptoSign(null, Buffer.from(input), edPrivate))}`;
  return `${input}.${encodeBase64Url(createHmac('sha256', hsSecret).update(input).digest())}`;
}

describe('verify never throws anything but a RevocableError', () => {
  it('for arbitrary strings and non-string values', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: 'grapheme', maxLength: 100 }),
          fc.anything(),
        ),
        (input) => {
          outcome(input);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('for arbitrary three-segment strings of base64url-ish characters', () => {
    fc.assert(
      fc.property(fc.tuple(b64ish, b64ish, b64ish), ([h, p, s]) => {
        outcome(`${h}.${p}.${s}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('for arbitrary JSON headers and payloads, signed for real or not', () => {
    const seen = new Set<string>();
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof({ weight: 3, arbitrary: headerArb }, anyJson),
        claimsArb,
        fc.boolean(),
        fc.constantFrom('real', 'real', 'random') as fc.Arbitrary<'real' | 'random'>,
        b64ish,
        (header, payload, pollute, mode, noise) => {
          const result = outcome(encode(header, payload, pollute, mode, noise));
          assert.equal(({} as Record<string, unknown>).polluted, undefined);
          for (const code of result.codes) seen.add(code);
          if (result.accepted) accepted++;
        },
      ),
      { numRuns: 1000 },
    );
    // The generators reach deep into the verifier, not only its first checks.
    assert.ok(accepted > 0, 'no generated token was accepted');
    for (const code of [
      'ERR_JWT_ALG',
      'ERR_JWT_HEADER',
      'ERR_JWT_TYP',
      'ERR_JWT_EXPIRED',
      'ERR_JWT_SIGNATURE',
    ]) {
      assert.ok(seen.has(code), `never saw ${code}: ${[...seen].join(' ')}`);
    }
  });
});

type Mutation =
  | { kind: 'replace'; at: number; with: string }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'truncate'; length: number }
  | { kind: 'permute'; order: [number, number, number] }
  | { kind: 'splice'; part: number }
  | { kind: 'flipBit'; part: number; at: number; bit: number }
  | { kind: 'append'; text: string }
  | { kind: 'tailBits'; part: number; bits: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    with: fc.oneof(
      fc.constantFrom(...ALPHABET, '.', '=', ' ', '+', '/', '\u00e9', '\u0000'),
      fc.string({ maxLength: 2 }),
    ),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(b64ish, fc.string({ maxLength: 4 })),
  }),
  fc.record({ kind: fc.constant('truncate' as const), length: fc.nat() }),
  fc.record({
    kind: fc.constant('permute' as const),
    order: fc.constantFrom<[number, number, number]>(
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
      [0, 0, 2],
      [0, 1, 1],
    ),
  }),
  fc.record({ kind: fc.constant('splice' as const), part: fc.integer({ min: 0, max: 2 }) }),
  fc.record({
    kind: fc.constant('flipBit' as const),
    part: fc.integer({ min: 0, max: 2 }),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant('append' as const),
    text: fc.constantFrom('=', '==', ' ', '\n', '.', 'A', 'AA', 'AAAA'),
  }),
  // Sets unused trailing bits: the same bytes, a different string.
  fc.record({
    kind: fc.constant('tailBits' as const),
    part: fc.integer({ min: 0, max: 2 }),
    bits: fc.integer({ min: 1, max: 15 }),
  }),
);

function mutate(token: string, other: string, mutation: Mutation): string {
  const parts = token.split('.');
  switch (mutation.kind) {
    case 'replace': {
      const at = mutation.at % token.length;
      return `${token.slice(0, at)}${mutation.with}${token.slice(at + 1)}`;
    }
    case 'delete': {
      const at = mutation.at % token.length;
      return `${token.slice(0, at)}${token.slice(at + mutation.count)}`;
    }
    case 'insert': {
      const at = mutation.at % (token.length + 1);
      return `${token.slice(0, at)}${mutation.text}${token.slice(at)}`;
    }
    case 'truncate':
      return token.slice(0, mutation.length % token.length);
    case 'permute':
      return mutation.order.map((index) => parts[index]).join('.');
    case 'splice': {
      const otherParts = other.split('.');
      return parts
        .map((part, index) => (index === mutation.part ? otherParts[index] : part))
        .join('.');
    }
    case 'flipBit': {
      const segment = parts[mutation.part];
      if (segment === undefined) return token;
      const bytes = Buffer.from(segment, 'base64url');
      if (bytes.length === 0) return token;
      bytes[mutation.at % bytes.length]! ^= 1 << mutation.bit;
      parts[mutation.part] = bytes.toString('base64url');
      return parts.join('.');
    }
    case 'append':
      return `${token}${mutation.text}`;
    case 'tailBits': {
      const segment = parts[mutation.part];
      if (segment === undefined || segment.length === 0) return token;
      const unused = segment.length % 4 === 2 ? 15 : segment.length % 4 === 3 ? 3 : 0;
      const last = ALPHABET.indexOf(segment.at(-1)!);
      if (unused === 0 || last < 0) return token;
      parts[mutation.part] = `${segment.slice(0, -1)}${ALPHABET[last | (mutation.bits & unused)]}`;
      return parts.join('.');
    }
  }
}

const signedClaims: fc.Arbitrary<JwtClaims> = fc.record(
  {
    sub: fc.string({ maxLength: 12 }),
    exp: fc.integer({ min: NOW + 1, max: NOW + 3600 }),
    iss: fc.constant('iss'),
    aud: fc.constantFrom('api', 'web'),
    n: fc.integer(),
    tags: fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  },
  { requiredKeys: ['exp', 'iss', 'aud'] },
);

describe('no mutated token is accepted', () => {
  for (const [name, key] of [
    ['HS256', hs],
    ['EdDSA', ed],
  ] as const) {
    it(`${name}: a mutated token verifies only if it is byte for byte a token a ring key signed`, () => {
      const issued = new Set<string>();
      const sign = (claims: JwtClaims, typ: string | null) => {
        const token = name === 'HS256' ? signJwt(claims, key, { typ }) : signEd(claims, typ);
        issued.add(token);
        return token;
      };
      fc.assert(
        fc.property(
          signedClaims,
          signedClaims,
          fc.constantFrom<string | null>('at+jwt', 'application/at+jwt', null),
          fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
          (claims, otherClaims, typ, mutations) => {
            const token = sign(claims, typ);
            const other = sign(otherClaims, typ);
            // The originals themselves verify (typ null only with the lenient verifier).
            assert.equal(outcome(token).accepted, true);
            let mutated = token;
            for (const mutation of mutations) mutated = mutate(mutated, other, mutation);
            const result = outcome(mutated);
            if (result.accepted) {
              assert.ok(issued.has(mutated), `accepted a mutation: ${JSON.stringify(mutations)}`);
            }
          },
        ),
        { numRuns: 500 },
      );
    });
  }

  it('the exact mutations an attacker tries first are all refused', () => {
    const token = signJwt({ sub: 'u1', exp: NOW + 60, iss: 'iss', aud: 'api' }, hs);
    const [h, p, s] = token.split('.') as [string, string, string];
    const alsoValid = signJwt({ sub: 'u2', exp: NOW + 60, iss: 'iss', aud: 'api' }, hs);
    const candidates = [
      `${h}.${p}.`,
      `${h}.${p}`,
      `${h}.${alsoValid.split('.')[1]}.${s}`,
      `${h}.${p}.${s}=`,
      `${h}.${p}.${s.slice(0, -1)}`,
      ` ${token}`,
      `${token} `,
      `${token}.`,
      token.replace(/[A-Za-z]/, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())),
    ];
    for (const candidate of candidates) assert.equal(outcome(candidate).accepted, false, candidate);
  });
});

/** An EdDSA token signed by the ring's `ed` key through node:crypto (the key is verify-only). */
function signEd(claims: JwtClaims, typ: string | null): string {
  const header: Record<string, string> = { alg: 'EdDSA' };
  if (typ !== null) header.typ = typ;
  header.kid = 'ed';
  const input = `${encodeBase64Url(JSON.stringify(header))}.${encodeBase64Url(JSON.stringify(claims))}`;
  return `${input}.${encodeBase64Url(cryptoSign(null, Buffer.from(input), edPrivate))}`;
}

describe('strict base64url', () => {
  const alphabetOnly = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 40 });
  const withStrangers = fc.string({
    unit: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...ALPHABET) },
      fc.constantFrom('=', '+', '/', ' '),
    ),
    maxLength: 40,
  });

  it('isBase64Url(s) is exactly "s survives a canonical base64url round trip"', () => {
    fc.assert(
      fc.property(fc.oneof(alphabetOnly, withStrangers), (s) => {
        assert.equal(
          isBase64Url(s),
          Buffer.from(s, 'base64url').toString('base64url') === s,
          JSON.stringify(s),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('decodeCanonical accepts exactly what isBase64Url accepts, characters outside Latin-1 too', () => {
    const strangers = fc.string({
      unit: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...ALPHABET) },
        // Characters whose low byte is in the alphabet, which a decoder reading bytes would take.
        fc.constantFrom('=', '+', '/', ' ', '\u0141', '\u0161', '\u00c1', '\u4e41', '\ud83d'),
      ),
      maxLength: 40,
    });
    fc.assert(
      fc.property(fc.oneof(alphabetOnly, withStrangers, strangers), (s) => {
        const length = decodeCanonical(s);
        assert.equal(length >= 0, isBase64Url(s), JSON.stringify(s));
        if (length >= 0) {
          assert.equal(decodedText(length), Buffer.from(s, 'base64url').toString('utf8'));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('decodeCanonical grows its buffer for a segment larger than any before', () => {
    const text = 'é'.repeat(20_000);
    const segment = encodeBase64Url(text);
    const length = decodeCanonical(segment);
    assert.equal(length, Buffer.byteLength(text));
    assert.equal(decodedText(length), text);
  });

  it('every encoding of bytes is accepted and decodes back to them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const encoded = encodeBase64Url(bytes);
        assert.ok(isBase64Url(encoded));
        assert.deepEqual(new Uint8Array(Buffer.from(encoded, 'base64url')), bytes);
      }),
      { numRuns: 500 },
    );
  });
});
