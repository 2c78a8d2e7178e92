import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createDummyHash,
  dummyPasswordHash,
  hashPassword,
  verifyPassword,
} from '../../../src/server/users/index.js';

describe('passwords', () => {
  it('hashes with argon2id and the OWASP parameters, a fresh salt each time', async () => {
    const one = await hashPassword('correct horse battery staple');
    const two = await hashPassword('correct horse battery staple');
    assert.match(one, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(one, two);
    assert.equal(await verifyPassword(one, 'correct horse battery staple'), true);
    assert.equal(await verifyPassword(two, 'correct horse battery staple'), true);
    assert.equal(await verifyPassword(one, 'correct horse battery stapl'), false);
    assert.equal(await verifyPassword(one, ''), false);
  });

  it('verifies Unicode passwords by their exact text', async () => {
    const hash = await hashPassword('pässwörd 👩🏽‍💻');
    assert.equal(await verifyPassword(hash, 'pässwörd 👩🏽‍💻'), true);
    assert.equal(await verifyPassword(hash, 'pa\u0308sswörd 👩🏽‍💻'), false);
  });

  it('answers false, never throws, for a malformed hash or input of the wrong type', async () => {
    const hash = await hashPassword('correct horse battery staple');
    for (const bad of [
      '',
      'garbage',
      '$argon2id$v=19$m=19456,t=2,p=1$',
      hash.slice(0, -5),
      `${hash}$x`,
    ]) {
      assert.equal(await verifyPassword(bad, 'correct horse battery staple'), false, bad);
    }
    assert.equal(await verifyPassword(42 as unknown as string, 'x'), false);
    assert.equal(await verifyPassword(hash, undefined as unknown as string), false);
  });

  it('makes the dummy hash once, with the same parameters, and retries one that failed', async () => {
    const first = dummyPasswordHash();
    assert.equal(dummyPasswordHash(), first);
    assert.match(await first, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    let calls = 0;
    const flaky = createDummyHash(async () => {
      calls += 1;
      if (calls === 1) throw new Error('not yet');
      return 'hash';
    });
    await assert.rejects(flaky(), /not yet/);
    assert.equal(await flaky(), 'hash');
    assert.equal(await flaky(), 'hash');
    assert.equal(calls, 2);
  });
});
