import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkPassword,
  checkRoles,
  checkUsername,
  isUsername,
} from '../../../src/server/users/index.js';
import { expectCode } from './support.js';

const POLICY = expectCode('ERR_PASSWORD_POLICY');

describe('password policy', () => {
  it('accepts 8 to 256 characters, counted in code points', () => {
    for (const ok of [
      '12345678',
      'correct horse battery staple',
      'x'.repeat(256),
      '😀'.repeat(8), // 16 UTF-16 units, 8 characters
      '😀'.repeat(256), // 512 units, 256 characters
      'pässwörd',
      'tab-less but spaced out ',
      '\u00a0nbsp is not a control',
    ]) {
      assert.doesNotThrow(() => checkPassword(ok), ok.slice(0, 20));
    }
  });

  it('refuses what is too short, too long, not a string or not text, never quoting it', () => {
    const secret = 'hunter2';
    assert.throws(
      () => checkPassword(secret),
      (error: unknown) => {
        POLICY(error);
        assert.ok(!(error as Error).message.includes(secret));
        assert.match((error as Error).message, /at least 8/);
        return true;
      },
    );
    assert.throws(() => checkPassword('😀'.repeat(7)), POLICY);
    assert.throws(() => checkPassword('x'.repeat(257)), /at most 256/);
    assert.throws(() => checkPassword('😀'.repeat(257)), POLICY);
    assert.throws(() => checkPassword('x'.repeat(10_000_000)), POLICY);
    for (const bad of [undefined, null, 12345678, {}, ['12345678']]) {
      assert.throws(() => checkPassword(bad), POLICY);
    }
  });

  it('refuses control characters (C0, DEL, C1) and lone surrogates', () => {
    for (const bad of [
      'password\u0000',
      'pass\tword1',
      'password\n',
      'password\u001b[31m',
      'password\u007f',
      'password\u0085',
      'password\u009f',
      'password\ud800',
      '\udc00password',
    ]) {
      assert.throws(() => checkPassword(bad), POLICY, JSON.stringify(bad));
    }
  });

  it('measures the NFKC form, the one stored, after bounding the text as typed', () => {
    // Typed: 8 code points; stored: 16 ('fi' eight times).
    assert.doesNotThrow(() => checkPassword('\ufb01'.repeat(8)));
    // The shortest length holds for both forms: typed 4 (stored 'fifififi', 8), or typed 1
    // (U+FDFA, 18 once normalised), is too short.
    assert.throws(() => checkPassword('\ufb01'.repeat(4)), /at least 8/);
    assert.throws(() => checkPassword('\ufdfa'), /at least 8/);
    // Typed: 14 code points; stored: 7 of 'é'.
    assert.throws(() => checkPassword('e\u0301'.repeat(7)), /at least 8/);
    // Typed: 15 code points; stored: 270 (U+FDFA is 18 once normalised).
    assert.throws(() => checkPassword('\ufdfa'.repeat(15)), /at most 256/);
    // Typed decomposed: 800 UTF-16 units; stored: 200 of U+1F82.
    assert.doesNotThrow(() => checkPassword('\u03b1\u0313\u0300\u0345'.repeat(200)));
    // Past 1024 units it is refused before it is normalised, whatever its NFKC form.
    assert.throws(() => checkPassword('\u03b1\u0313\u0300\u0345'.repeat(257)), /at most 256/);
    // Full-width letters and digits are their ASCII selves: still 8 characters.
    assert.doesNotThrow(() => checkPassword('\uff21\uff22\uff23\uff11\uff12\uff13\uff58\uff59'));
  });

  it('refuses code points Unicode does not assign, whose NFKC form a later version may change', () => {
    for (const odd of ['\u0378', '\uffff', '\ufdd0', '\u{10fffe}']) {
      assert.throws(() => checkPassword(`correct horse ${odd}`), /does not assign/);
    }
    // Private use and emoji are assigned, and stable.
    assert.doesNotThrow(() => checkPassword('correct horse \ue000 \u{1f40e}'));
  });
});

describe('username policy', () => {
  it('accepts 1 to 64 letters, digits and . _ - @', () => {
    for (const ok of ['a', 'Alice', 'alice@example.com', 'a.b_c-d', '0', 'x'.repeat(64)]) {
      assert.ok(isUsername(ok));
      assert.doesNotThrow(() => checkUsername(ok));
    }
  });

  it('refuses anything else with ERR_USERNAME_INVALID', () => {
    for (const bad of [
      '',
      'x'.repeat(65),
      'al ice',
      'ålice',
      'alice\n',
      'a/b',
      'a+b',
      'ａlice', // fullwidth
      'alice\u200b',
      42,
      null,
      undefined,
      ['alice'],
    ]) {
      assert.equal(isUsername(bad), false);
      assert.throws(() => checkUsername(bad), expectCode('ERR_USERNAME_INVALID'), String(bad));
    }
  });
});

describe('roles', () => {
  it('accepts up to 16 distinct lowercase names', () => {
    for (const ok of [
      [],
      ['admin'],
      ['a', 'b-c', 'd_e', 'x9'],
      Array.from({ length: 16 }, (_, i) => `r${i}`),
    ]) {
      assert.doesNotThrow(() => checkRoles(ok));
    }
    assert.doesNotThrow(() => checkRoles([`a${'b'.repeat(31)}`]));
  });

  it('refuses anything else with ERR_INVALID_ARGUMENT', () => {
    for (const bad of [
      'admin',
      null,
      [42],
      ['Admin'],
      ['1admin'],
      ['-admin'],
      [''],
      ['ad min'],
      [`a${'b'.repeat(32)}`],
      ['admin', 'admin'],
      Array.from({ length: 17 }, (_, i) => `r${i}`),
    ]) {
      assert.throws(() => checkRoles(bad), expectCode('ERR_INVALID_ARGUMENT'), String(bad));
    }
  });
});
