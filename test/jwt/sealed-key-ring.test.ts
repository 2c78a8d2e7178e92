import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../src/errors/index.js';
import {
  createSigner,
  createVerifier,
  KeyRing,
  sealKeyRing,
  unsealKeyRing,
} from '../../src/jwt/index.js';

const SECRET = randomBytes(32).toString('base64');

function expectCode(code: string) {
  return (error: unknown) => {
    assert.ok(isRevocableError(error), `expected a RevocableError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

function ringOfEveryFamily(): KeyRing {
  const ring = KeyRing.generate('RS256');
  ring.rotate('ES256');
  ring.rotate('HS256');
  ring.rotate('EdDSA');
  ring.retire(ring.keys()[0]!.kid);
  return ring;
}

// Flips one character of one dot-separated part, keeping it base64url.
function tamper(sealed: string, part: number, at = 5): string {
  const parts = sealed.split('.');
  const text = parts[part]!;
  const flipped = text[at] === 'A' ? 'B' : 'A';
  parts[part] = text.slice(0, at) + flipped + text.slice(at + 1);
  return parts.join('.');
}

describe('sealed key ring', () => {
  it('round-trips every key, its state and its private parts', () => {
    const ring = ringOfEveryFamily();
    const sealed = sealKeyRing(ring, SECRET, { revision: 7 });
    const back = unsealKeyRing(sealed, SECRET, { revision: 7 });
    assert.deepEqual(back.toJSON(), ring.toJSON());
    assert.equal(back.active.kid, ring.active.kid);
    // The unsealed private key signs what the original ring verifies.
    const token = createSigner({ keys: back, issuer: 'i', audience: 'a', ttl: 60 }).sign({
      sub: 'u',
    });
    const verified = createVerifier({ keys: ring, issuer: 'i', audience: 'a' }).verify(token);
    assert.equal(verified.sub, 'u');
  });

  it('accepts the secret as bytes, and as the same text', () => {
    const bytes = randomBytes(48);
    const ring = KeyRing.generate('EdDSA');
    const sealed = sealKeyRing(ring, bytes);
    assert.equal(unsealKeyRing(sealed, new Uint8Array(bytes)).active.kid, ring.active.kid);
    const text = 'x'.repeat(40);
    assert.equal(
      unsealKeyRing(sealKeyRing(ring, text), Buffer.from(text, 'utf8')).active.kid,
      ring.active.kid,
    );
  });

  it('is versioned ASCII with a fresh IV each time, and holds no key material in the clear', () => {
    const ring = ringOfEveryFamily();
    const a = sealKeyRing(ring, SECRET);
    const b = sealKeyRing(ring, SECRET);
    assert.match(
      a,
      /^revocable\.keyring\.v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/,
    );
    assert.notEqual(a.split('.')[3], b.split('.')[3]);
    assert.notEqual(a, b);
    for (const jwk of ring.toJSON().keys) {
      for (const member of ['d', 'p', 'q', 'k', 'x', 'n', 'kid'] as const) {
        const value = jwk[member];
        if (typeof value === 'string') assert.ok(!a.includes(value), `${member} leaks`);
      }
    }
    assert.ok(!a.includes(SECRET));
  });

  it('refuses a wrong secret, another revision and every altered part with ERR_KEYRING_SEALED_INVALID', () => {
    const ring = KeyRing.generate('ES256');
    const sealed = sealKeyRing(ring, SECRET, { revision: 3 });
    const invalid = expectCode('ERR_KEYRING_SEALED_INVALID');
    assert.throws(
      () => unsealKeyRing(sealed, randomBytes(32).toString('base64'), { revision: 3 }),
      invalid,
    );
    assert.throws(() => unsealKeyRing(sealed, SECRET, { revision: 4 }), invalid);
    assert.throws(() => unsealKeyRing(sealed, SECRET), invalid);
    for (const part of [3, 4, 5]) {
      assert.throws(() => unsealKeyRing(tamper(sealed, part), SECRET, { revision: 3 }), invalid);
    }
    const parts = sealed.split('.');
    const variants = [
      '',
      'not sealed',
      sealed.replace('.v1.', '.v2.'),
      `${sealed}.extra`,
      parts.slice(0, 5).join('.'),
      // A truncated tag: Node would accept a short GCM tag unless told its length.
      [...parts.slice(0, 5), parts[5]!.slice(0, 6)].join('.'),
      [...parts.slice(0, 4), '', parts[5]].join('.'),
      [...parts.slice(0, 4), `${parts[4]}=`, parts[5]].join('.'),
    ];
    for (const variant of variants) {
      assert.throws(() => unsealKeyRing(variant, SECRET, { revision: 3 }), invalid, variant);
    }
    assert.throws(() => unsealKeyRing(42 as unknown as string, SECRET), invalid);
  });

  it('refuses a missing or short secret with ERR_KEYS_SECRET, saying how to make one and never echoing it', () => {
    const ring = KeyRing.generate('EdDSA');
    const sealed = sealKeyRing(ring, SECRET);
    const short = 'short-secret-value';
    for (const secret of [undefined, '', short, randomBytes(31), 42 as unknown as string]) {
      for (const run of [() => sealKeyRing(ring, secret), () => unsealKeyRing(sealed, secret)]) {
        assert.throws(run, (error: unknown) => {
          expectCode('ERR_KEYS_SECRET')(error);
          const message = (error as Error).message;
          assert.match(message, /REVOCABLE_KEYS_SECRET/);
          assert.match(message, /openssl rand -base64 32/);
          assert.ok(!message.includes(short));
          return true;
        });
      }
    }
  });

  it('never lets key material into an error, even for a ring that decrypts but is unreadable', () => {
    const ring = KeyRing.generate('EdDSA');
    const d = ring.toJSON().keys[0]!.d!;
    try {
      unsealKeyRing(sealKeyRing(ring, SECRET, { revision: 1 }), `${SECRET}x`, { revision: 1 });
      assert.fail('a wrong secret unsealed');
    } catch (error) {
      const text = `${String(error)} ${String((error as Error).cause)}`;
      assert.ok(!text.includes(d));
      assert.ok(!text.includes(SECRET));
    }
  });

  it('refuses what is not a KeyRing and a bad revision', () => {
    assert.throws(() => sealKeyRing({} as KeyRing, SECRET), expectCode('ERR_INVALID_ARGUMENT'));
    for (const revision of [-1, 1.5, Number.NaN]) {
      assert.throws(
        () => sealKeyRing(KeyRing.generate('EdDSA'), SECRET, { revision }),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
    }
  });
});
