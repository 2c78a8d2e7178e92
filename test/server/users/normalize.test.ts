import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ARGON2_PASSWORDS,
  hashPassword,
  normalizePassword,
} from '../../../src/server/users/index.js';
import { normalizingHasher } from '../../../src/server/users/normalize.js';
import { countingHasher } from './support.js';

const COMPOSED = 'caf\u00e9 au lait, s\u2019il vous pla\u00eet';
const DECOMPOSED = 'cafe\u0301 au lait, s\u2019il vous plai\u0302t';

describe('normalizePassword', () => {
  it('is NFKC: canonical and compatibility forms are one password', () => {
    assert.notEqual(COMPOSED, DECOMPOSED);
    assert.equal(normalizePassword(DECOMPOSED), COMPOSED);
    assert.equal(normalizePassword(COMPOSED), COMPOSED);
    assert.equal(normalizePassword('\uff21\uff22\uff23 \ufb01sh'), 'ABC fish');
    assert.equal(normalizePassword('correct horse battery staple'), 'correct horse battery staple');
  });
});

describe('normalizingHasher', () => {
  it('hashes the NFKC form', async () => {
    const { hasher, calls } = countingHasher();
    const passwords = normalizingHasher(hasher);
    assert.equal(await passwords.hash(DECOMPOSED), `fake:${COMPOSED}`);
    assert.equal(await passwords.hash('\uff21\ufb01 password'), 'fake:Afi password');
    assert.deepEqual(calls.hash, [COMPOSED, 'Afi password']);
  });

  it('verifies an already normal password, ASCII or not, with one verify, right or wrong', async () => {
    const { hasher, calls } = countingHasher();
    const passwords = normalizingHasher(hasher);
    for (const [password, expected] of [
      ['correct horse battery staple', true],
      ['correct horse battery stapler', false],
      [COMPOSED, false],
    ] as const) {
      calls.verify.length = 0;
      assert.equal(await passwords.verify('fake:correct horse battery staple', password), expected);
      assert.deepEqual(calls.verify, [{ hash: 'fake:correct horse battery staple', password }]);
    }
  });

  it('verifies another form against a normalised hash by its NFKC form, with one verify', async () => {
    const { hasher, calls } = countingHasher();
    const passwords = normalizingHasher(hasher);
    assert.equal(await passwords.verify(`fake:${COMPOSED}`, DECOMPOSED), true);
    assert.deepEqual(calls.verify, [{ hash: `fake:${COMPOSED}`, password: COMPOSED }]);
  });

  it('falls back to the typed text once, for a hash made before normalisation', async () => {
    const { hasher, calls } = countingHasher();
    const passwords = normalizingHasher(hasher);
    const legacy = `fake:${DECOMPOSED}`;
    assert.equal(await passwords.verify(legacy, DECOMPOSED), true);
    assert.deepEqual(calls.verify, [
      { hash: legacy, password: COMPOSED },
      { hash: legacy, password: DECOMPOSED },
    ]);
    // The composed form is already normal: nothing to fall back to, and it is not the typed text
    // the legacy hash was made of.
    calls.verify.length = 0;
    assert.equal(await passwords.verify(legacy, COMPOSED), false);
    assert.equal(calls.verify.length, 1);
  });

  it('refuses a password that matches neither form, after both', async () => {
    const { hasher, calls } = countingHasher();
    const passwords = normalizingHasher(hasher);
    assert.equal(await passwords.verify(`fake:${COMPOSED}`, 'cafe\u0301 au lait'), false);
    assert.equal(calls.verify.length, 2);
  });

  it('with argon2id: either form verifies a new hash, the typed text an old one', async () => {
    const passwords = normalizingHasher(ARGON2_PASSWORDS);
    const hash = await passwords.hash(DECOMPOSED);
    assert.equal(await passwords.verify(hash, COMPOSED), true);
    assert.equal(await passwords.verify(hash, DECOMPOSED), true);
    assert.equal(await passwords.verify(hash, 'caf\u00e9 au lait'), false);
    const legacy = await hashPassword(DECOMPOSED);
    assert.equal(await passwords.verify(legacy, DECOMPOSED), true);
    assert.equal(await passwords.verify(legacy, 'cafe\u0301 au lait'), false);
  });
});
