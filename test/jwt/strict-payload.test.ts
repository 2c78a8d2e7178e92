// The strict rules of issue 12, each attacked with a token that a key of the ring really signed:
// the signature holds, so only the rule itself can refuse the token. Tokens are built from raw
// bytes with node:crypto, never with revocable's signer, whose JSON encoder could not produce them.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { type ErrorCode, RevocableError } from '../../src/errors/index.js';
import { createVerifier, KeyRing, type VerifierOptions } from '../../src/jwt/index.js';

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

function b64(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

/** A token whose header and payload are exactly these bytes (or UTF-8 texts), HS256-signed. */
function forge(payload: string | Uint8Array, header: string | Uint8Array = JSON.stringify(HEADER)) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${b64(createHmac('sha256', secret).update(input).digest())}`;
}

function verifier(options: Partial<VerifierOptions> = {}) {
  return createVerifier({ keys: ring, now, ...options });
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
