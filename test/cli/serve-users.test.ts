import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Workspace } from './harness.js';

const data = mkdtempSync(join(tmpdir(), 'revocable-cli-users-'));

// The CLI reads the process's environment, where CI sets DATABASE_URL and REDIS_URL for the other
// tests: without them here, `users add` works on the SQLite database of --data.
const CLUSTER_VARIABLES = ['DATABASE_URL', 'REDIS_URL'] as const;
const saved = new Map<string, string | undefined>();

describe('revocable serve and revocable users', () => {
  before(() => {
    for (const name of CLUSTER_VARIABLES) {
      saved.set(name, process.env[name]);
      delete process.env[name];
    }
  });
  after(() => {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
    rmSync(data, { recursive: true, force: true });
  });

  it('serve --help lists the settings', async () => {
    const help = await new Workspace().ok('serve', '--help');
    assert.match(help, /^Usage: revocable serve/);
    for (const flag of ['--port', '--data', '--access-ttl', '--max-staleness', 'DATABASE_URL']) {
      assert.ok(help.includes(flag), flag);
    }
  });

  it('serve refuses bad settings with one line each, and exit status 2', async () => {
    const result = await new Workspace().run('serve', '--port', 'abc', '--access-ttl', '1s');
    assert.equal(result.status, 2);
    assert.match(result.stderr, /\n {2}--port must be an integer/);
    assert.match(result.stderr, /\n {2}--access-ttl must be a duration/);
  });

  it('users add makes a user, and with --admin an admin, from the password on stdin', async () => {
    const workspace = new Workspace();
    const admin = await workspace.runWithStdin(
      'admin password 1\n',
      'users',
      'add',
      'root',
      '--admin',
      '--data',
      data,
    );
    assert.equal(admin.status, 0, admin.stderr);
    assert.deepEqual(JSON.parse(admin.stdout).roles, ['admin']);
    const user = await workspace.runWithStdin(
      'user password 1\n',
      'users',
      'add',
      'alice',
      '--data',
      data,
    );
    assert.equal(user.status, 0, user.stderr);
    assert.deepEqual(JSON.parse(user.stdout).roles, []);
    const again = await workspace.runWithStdin(
      'user password 2\n',
      'users',
      'add',
      'ALICE',
      '--data',
      data,
    );
    assert.equal(again.status, 2);
    assert.match(again.stderr, /ERR_USERNAME_TAKEN/);
    // --admin on an existing user makes it an admin.
    const promoted = await workspace.runWithStdin(
      'user password 1\n',
      'users',
      'add',
      'alice',
      '--admin',
      '--data',
      data,
    );
    assert.deepEqual(JSON.parse(promoted.stdout).roles, ['admin']);
  });

  it('users add refuses a weak password and an empty stdin, and names the rule', async () => {
    const workspace = new Workspace();
    const weak = await workspace.runWithStdin('short\n', 'users', 'add', 'bob', '--data', data);
    assert.equal(weak.status, 2);
    assert.match(weak.stderr, /ERR_PASSWORD_POLICY/);
    const empty = await workspace.run('users', 'add', 'bob', '--data', data);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /no password on stdin/);
  });
});
