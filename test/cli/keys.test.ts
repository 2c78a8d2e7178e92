import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createNodeIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';
import { NOW, parseJson, Workspace } from './harness.js';

interface PrintedKey {
  kid: string;
  alg: string;
  state: string;
  created?: number;
  d?: string;
  k?: string;
}

function keysOf(text: string): PrintedKey[] {
  return parseJson(text).keys as PrintedKey[];
}

describe('revocable keys generate', () => {
  it('prints a ring with one active EdDSA key by default, private part included', async () => {
    const result = await new Workspace().run('keys', 'generate');
    assert.equal(result.status, 0);
    assert.equal(result.stderr, '');
    const [key, ...others] = keysOf(result.stdout);
    assert.equal(others.length, 0);
    assert.equal(key?.alg, 'EdDSA');
    assert.equal(key?.state, 'active');
    assert.equal(key?.created, NOW);
    assert.equal(typeof key?.d, 'string');
    assert.match(key?.kid ?? '', /^[A-Za-z0-9_-]{22}$/);
  });

  it('takes --alg and --kid', async () => {
    const keys = keysOf(
      await new Workspace().ok('keys', 'generate', '--alg', 'ES256', '--kid', 'k1'),
    );
    assert.deepEqual(
      keys.map(({ kid, alg }) => ({ kid, alg })),
      [{ kid: 'k1', alg: 'ES256' }],
    );
  });

  it('writes the ring with --out as a secret file, says so on stderr, and prints nothing', async () => {
    const workspace = new Workspace();
    const result = await workspace.run(
      'keys',
      'generate',
      '--alg',
      'HS256',
      '--kid',
      'k1',
      '--out',
      'ring.json',
    );
    assert.equal(result.status, 0);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'revocable: wrote ring.json (mode 0600): a key ring of 1 key, active k1 (HS256)\n',
    );
    assert.ok(workspace.secretFiles.has('ring.json'));
    assert.equal(keysOf(workspace.files.get('ring.json') ?? '')[0]?.alg, 'HS256');
  });

  it('refuses to replace an existing ring without --force', async () => {
    const workspace = new Workspace();
    await workspace.ok('keys', 'generate', '--kid', 'first', '--out', 'ring.json');
    const before = workspace.files.get('ring.json');
    const refused = await workspace.run('keys', 'generate', '--out', 'ring.json');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /ring\.json exists already.*keys rotate.*--force/);
    assert.equal(workspace.files.get('ring.json'), before);
    const forced = await workspace.run('keys', 'generate', '--out', 'ring.json', '--force');
    assert.equal(forced.status, 0);
    assert.notEqual(workspace.files.get('ring.json'), before);
  });

  it('on disk, --out leaves a file only its owner can read, even over a looser one', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'revocable-cli-'));
    try {
      const path = join(directory, 'ring.json');
      writeFileSync(path, 'old', { mode: 0o644 });
      const status = await runCli(['keys', 'generate', '--out', path, '--force'], createNodeIo());
      assert.equal(status, 0);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(keysOf(readFileSync(path, 'utf8')).length, 1);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('revocable keys rotate', () => {
  it('adds a new active key and demotes the old one to verify-only', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--kid', 'old');
    const keys = keysOf(
      await workspace.ok('keys', 'rotate', '--keys', 'ring.json', '--kid', 'new'),
    );
    assert.deepEqual(
      keys.map(({ kid, alg, state }) => ({ kid, alg, state })),
      [
        { kid: 'old', alg: 'EdDSA', state: 'verify-only' },
        { kid: 'new', alg: 'EdDSA', state: 'active' },
      ],
    );
  });

  it('switches algorithm with --alg', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const keys = keysOf(
      await workspace.ok('keys', 'rotate', '--keys', 'ring.json', '--alg', 'ES384'),
    );
    assert.deepEqual(
      keys.map((key) => key.alg),
      ['EdDSA', 'ES384'],
    );
  });

  it('after the active key is retired, rotates to the algorithm of the newest key', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--alg', 'ES256', '--kid', 'k1');
    workspace.files.set(
      'ring.json',
      await workspace.ok('keys', 'retire', '--keys', 'ring.json', '--kid', 'k1'),
    );
    const keys = keysOf(await workspace.ok('keys', 'rotate', '--keys', 'ring.json'));
    assert.deepEqual(
      keys.map((key) => [key.alg, key.state]),
      [
        ['ES256', 'retired'],
        ['ES256', 'active'],
      ],
    );
  });

  it('needs --alg for a public JWKS, which has no active key', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    workspace.files.set('jwks.json', await workspace.ok('keys', 'jwks', '--keys', 'ring.json'));
    const result = await workspace.run('keys', 'rotate', '--keys', 'jwks.json');
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^revocable: ERR_INVALID_ARGUMENT: /);
  });
});

describe('revocable keys retire', () => {
  it('retires a key and warns when the ring is left without a signer', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--kid', 'k1');
    const result = await workspace.run('keys', 'retire', '--keys', 'ring.json', '--kid', 'k1');
    assert.equal(result.status, 0);
    assert.equal(keysOf(result.stdout)[0]?.state, 'retired');
    assert.match(result.stderr, /^revocable: warning: the ring has no active key now/);
  });

  it('retires a verify-only key quietly', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--kid', 'old');
    workspace.files.set('ring.json', await workspace.ok('keys', 'rotate', '--keys', 'ring.json'));
    const result = await workspace.run('keys', 'retire', '--keys', 'ring.json', '--kid', 'old');
    assert.equal(result.stderr, '');
    assert.deepEqual(
      keysOf(result.stdout).map((key) => key.state),
      ['retired', 'active'],
    );
  });

  it('refuses an unknown kid with ERR_KEYRING_KID_UNKNOWN, exit 2', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const result = await workspace.run('keys', 'retire', '--keys', 'ring.json', '--kid', 'nope');
    assert.equal(result.status, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^revocable: ERR_KEYRING_KID_UNKNOWN: .*\n$/);
  });
});

describe('revocable keys list and keys jwks', () => {
  it('lists kid, alg, state and created without key material', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--alg', 'HS256', '--kid', 'k1');
    const text = await workspace.ok('keys', 'list', '--keys', 'ring.json');
    assert.deepEqual(parseJson(text), {
      keys: [{ kid: 'k1', alg: 'HS256', state: 'active', created: NOW, private: true }],
    });
  });

  it('prints the public keys only', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--alg', 'ES256', '--kid', 'k1');
    const [key, ...others] = keysOf(await workspace.ok('keys', 'jwks', '--keys', 'ring.json'));
    assert.equal(others.length, 0);
    assert.equal(key?.kid, 'k1');
    assert.equal(key?.d, undefined);
    assert.equal(key?.state, undefined);
  });

  it('never publishes an HMAC secret, and says why the set is empty', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--alg', 'HS256');
    const result = await workspace.run('keys', 'jwks', '--keys', 'ring.json');
    assert.equal(result.status, 0);
    assert.deepEqual(parseJson(result.stdout), { keys: [] });
    assert.match(result.stderr, /^revocable: warning: the JWKS is empty/);
  });
});

describe('key files', () => {
  it('never quotes a key file that is not JSON', async () => {
    const workspace = new Workspace();
    workspace.files.set('ring.json', '{"keys":[{"k":"SECRET-MATERIAL"');
    const result = await workspace.run('keys', 'jwks', '--keys', 'ring.json');
    assert.equal(result.status, 2);
    assert.equal(result.stderr, 'revocable: key file ring.json is not valid JSON\n');
  });

  it('reports an invalid ring with its code and file, without the key', async () => {
    const workspace = new Workspace();
    const jwk = { kty: 'oct', k: 'U0VDUkVULU1BVEVSSUFM', alg: 'HS256', kid: 'k1' };
    workspace.files.set('ring.json', JSON.stringify({ keys: [jwk] }));
    const result = await workspace.run('keys', 'list', '--keys', 'ring.json');
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^revocable: ERR_KEY_WEAK: key file ring\.json: .*\n$/);
    assert.doesNotMatch(result.stderr, /U0VDUkVU/);
  });

  it('reports a missing key file', async () => {
    const result = await new Workspace().run('keys', 'list', '--keys', 'missing.json');
    assert.equal(result.status, 2);
    assert.equal(result.stderr, 'revocable: cannot read key file missing.json: no such file\n');
  });
});
