import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultIssuer, describeConfig } from '../../../src/server/config/index.js';
import { CLUSTER_ENV, load, tempDir, writeConfig } from './helpers.js';

describe('describeConfig', () => {
  it('names the mode, then every setting with its value and source', () => {
    const dir = tempDir();
    const file = writeConfig(dir, { logLevel: 'debug' });
    const config = load(['--port', '8080', '--config', file], { REVOCABLE_ACCESS_TTL: '5m' }, dir);
    const lines = describeConfig(config).split('\n');
    assert.equal(lines[0], 'revocable serve: sqlite mode');
    const fields = Object.keys(config.sources);
    assert.equal(lines.length, fields.length + 1);
    for (const field of fields) {
      assert.ok(
        lines.some((line) => line.trim().startsWith(`${field} `)),
        field,
      );
    }
    const line = (field: string) => lines.find((text) => text.trim().startsWith(`${field} `)) ?? '';
    assert.match(line('port'), /^ {2}port +8080 +\(flag\)$/);
    assert.match(line('accessTtl'), /5m +\(env\)$/);
    assert.match(line('logLevel'), /debug +\(file\)$/);
    assert.match(line('idleTimeout'), /7d +\(default\)$/);
    assert.match(line('bodyLimit'), /16KiB +\(default\)$/);
    assert.match(line('keysSecret'), /generated in data dir +\(default\)$/);
    assert.match(line('configFile'), /\(flag\)$/);
    assert.match(line('databaseUrl'), /none +\(default\)$/);
  });

  it('cluster mode', () => {
    const config = load([], { ...CLUSTER_ENV, DATABASE_URL: 'postgres://db/app' });
    assert.ok(describeConfig(config).startsWith('revocable serve: cluster mode\n'));
  });
});

describe('defaultIssuer', () => {
  it('localhost for wildcard and loopback addresses, the host for a specific one', () => {
    assert.equal(defaultIssuer('127.0.0.1', 3000), 'http://localhost:3000');
    assert.equal(defaultIssuer('::1', 3000), 'http://localhost:3000');
    assert.equal(defaultIssuer('::', 1), 'http://localhost:1');
    assert.equal(defaultIssuer('0.0.0.0', 1), 'http://localhost:1');
    assert.equal(defaultIssuer('localhost', 1), 'http://localhost:1');
    assert.equal(defaultIssuer('192.168.1.2', 80), 'http://192.168.1.2:80');
    assert.equal(defaultIssuer('fd00::2', 80), 'http://[fd00::2]:80');
  });
});
