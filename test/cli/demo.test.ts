import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Workspace } from './harness.js';

describe('revocable demo', () => {
  it('walks through keys and sessions, showing each revocation refused', async () => {
    const result = await new Workspace().run('demo');
    assert.equal(result.status, 0, result.stderr);
    for (const expected of [
      'refused: ERR_JWT_SIGNATURE',
      'refused: ERR_JWT_ALG',
      'refused: ERR_JWT_TYP',
      'refused: ERR_JWT_KEY_RETIRED',
      'Sessions on SQLite',
      'gets the same successor: yes',
      'refused: ERR_REFRESH_REUSED',
      'refused: ERR_TOKEN_REVOKED (session)',
      'new token accepted',
      'refused: ERR_SUBJECT_BANNED',
    ]) {
      assert.ok(result.stdout.includes(expected), `the demo shows "${expected}"`);
    }
  });

  it('ends by naming a command that works', async () => {
    const result = await new Workspace().run('demo');
    const next = /Next: npx (revocable [^ ]+)/.exec(result.stdout);
    assert.ok(next !== null, 'the demo names its next command');
    const [command, ...args] = next[1]!.split(' ');
    assert.equal(command, 'revocable');
    assert.equal((await new Workspace().run(...args)).status, 0);
  });

  it('has help and takes no arguments', async () => {
    assert.equal((await new Workspace().run('demo', '--help')).status, 0);
    assert.equal((await new Workspace().run('demo', 'extra')).status, 2);
  });
});
