import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// The entry point as the test build compiles it: build/test/cli/ -> build/src/cli/main.js.
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function revocable(args: string[], input?: string) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', input: input ?? '' });
}

describe('the revocable binary', () => {
  it('keeps its shebang and prints its version', () => {
    assert.equal(readFileSync(MAIN, 'utf8').split('\n')[0], '#!/usr/bin/env node');
    const manifest = JSON.parse(
      readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    assert.equal(
      execFileSync(process.execPath, [MAIN, '--version'], { encoding: 'utf8' }),
      `${manifest.version}\n`,
    );
  });

  it('keys generate | token sign | token verify, through real files and pipes', () => {
    const directory = mkdtempSync(join(tmpdir(), 'revocable-bin-'));
    try {
      const ring = join(directory, 'ring.json');
      const generated = revocable(['keys', 'generate', '--alg', 'ES256', '--out', ring]);
      assert.equal(generated.status, 0, generated.stderr);
      assert.equal(statSync(ring).mode & 0o777, 0o600);

      const signed = revocable([
        'token',
        'sign',
        '--keys',
        ring,
        '--claims',
        '{"sub":"u1"}',
        '--iss',
        'https://auth.example',
        '--aud',
        'api',
      ]);
      assert.equal(signed.status, 0, signed.stderr);
      const token = signed.stdout.trim();

      const verified = revocable(
        ['token', 'verify', '--keys', ring, '--iss', 'https://auth.example', '--aud', 'api', '-'],
        `${token}\n`,
      );
      assert.equal(verified.status, 0, verified.stderr);
      assert.equal((JSON.parse(verified.stdout) as { sub: string }).sub, 'u1');

      const refused = revocable([
        'token',
        'verify',
        '--keys',
        ring,
        '--any-issuer',
        '--aud',
        'other',
        token,
      ]);
      assert.deepEqual(
        [refused.status, refused.stdout, refused.stderr],
        [
          1,
          // The message names both sides; the CLI prints it as JSON, so its quotes are escaped.
          '{"error":"ERR_JWT_AUDIENCE","message":"The token is not meant for this audience. ' +
            'The token\'s aud is \\"api\\"; this verifier accepts \\"other\\"."}\n',
          '',
        ],
      );

      const bad = revocable(['token', 'sign', '--keys', join(directory, 'missing.json')]);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /^revocable: cannot read key file .*missing\.json: no such file\n$/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
