import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type ConfigField,
  SERVER_SETTINGS,
  type ServerSetting,
  type SettingName,
} from '../../../src/server/config/index.js';
import { CLUSTER_ENV, load, tempDir, writeConfig } from './helpers.js';

/** One valid value of a setting, as text (flag, variable), as JSON (file), and as read. */
interface Sample {
  readonly text: string;
  readonly json: unknown;
  readonly value: unknown;
}

/**
 * Two different valid values for every setting that has a field of its own, and what else the
 * setting needs to be valid (cluster mode needs a secret and an issuer).
 */
const SAMPLES: Partial<
  Record<SettingName, { a: Sample; b: Sample; env?: Record<string, string> }>
> = {
  port: { a: { text: '8080', json: 8080, value: 8080 }, b: { text: '0', json: 0, value: 0 } },
  host: {
    a: { text: '0.0.0.0', json: '0.0.0.0', value: '0.0.0.0' },
    b: { text: 'auth.internal', json: 'auth.internal', value: 'auth.internal' },
  },
  dataDir: {
    a: { text: '/srv/a', json: '/srv/a', value: '/srv/a' },
    b: { text: '/srv/b', json: '/srv/b', value: '/srv/b' },
  },
  accessTtl: {
    a: { text: '5m', json: '5m', value: 300 },
    b: { text: '30', json: 30, value: 30 },
  },
  requestTimeout: {
    a: { text: '45s', json: 45, value: 45 },
    b: { text: '2m', json: '2m', value: 120 },
  },
  refreshGrace: {
    a: { text: '0', json: 0, value: 0 },
    b: { text: '5m', json: '1m', value: 300 },
  },
  idleTimeout: {
    a: { text: '1d', json: '1d', value: 86400 },
    b: { text: '2h', json: 7200, value: 7200 },
  },
  sessionLifetime: {
    a: { text: '90d', json: '90d', value: 7776000 },
    b: { text: '1h', json: 3600, value: 3600 },
  },
  issuer: {
    a: { text: 'https://a.example', json: 'https://a.example', value: 'https://a.example' },
    b: { text: 'urn:b', json: 'urn:b', value: 'urn:b' },
  },
  audience: {
    a: { text: 'api, web', json: ['api', 'web'], value: ['api', 'web'] },
    b: { text: 'mobile', json: 'mobile,admin', value: ['mobile'] },
  },
  maxStaleness: {
    a: { text: '1s', json: 1, value: 1 },
    b: { text: '1h', json: '1h', value: 3600 },
  },
  databaseUrl: {
    a: { text: 'postgres://db/a', json: 'postgres://db/a', value: 'postgres://db/a' },
    b: { text: 'postgresql://db/b', json: 'postgresql://db/b', value: 'postgresql://db/b' },
    env: CLUSTER_ENV,
  },
  redisUrl: {
    a: { text: 'redis://cache:6379', json: 'redis://cache:6379', value: 'redis://cache:6379' },
    b: { text: 'rediss://cache', json: 'rediss://cache', value: 'rediss://cache' },
    env: { ...CLUSTER_ENV, DATABASE_URL: 'postgres://db/app' },
  },
  redisPrefix: {
    a: { text: 'app:', json: 'app:', value: 'app:' },
    b: { text: '{auth}.', json: '{auth}.', value: '{auth}.' },
  },
  pgSchema: {
    a: { text: 'auth', json: 'auth', value: 'auth' },
    b: { text: '_x1', json: '_x1', value: '_x1' },
  },
  registration: {
    a: { text: 'closed', json: 'closed', value: 'closed' },
    b: { text: 'open', json: 'open', value: 'open' },
  },
  cookieSecure: {
    a: { text: 'false', json: false, value: false },
    b: { text: 'yes', json: true, value: true },
  },
  fingerprint: {
    a: { text: 'on', json: true, value: true },
    b: { text: '0', json: false, value: false },
  },
  trustProxy: {
    a: { text: '10.0.0.0/8, ::1', json: true, value: ['10.0.0.0/8', '::1'] },
    b: { text: 'off', json: ['LOOPBACK', '192.0.2.7'], value: ['loopback', '192.0.2.7'] },
  },
  bodyLimit: {
    a: { text: '64KiB', json: '64KiB', value: 65536 },
    b: { text: '1024', json: 1048576, value: 1024 },
  },
  loginAccountLimit: {
    a: { text: '5', json: 5, value: 5 },
    b: { text: '1000', json: 1000, value: 1000 },
  },
  maxStreams: {
    a: { text: '1', json: 1, value: 1 },
    b: { text: '250', json: 250, value: 250 },
  },
  maxStreamsPerAddress: {
    a: { text: '4', json: 4, value: 4 },
    b: { text: '100000', json: 100000, value: 100000 },
  },
  loginAddressLimit: {
    a: { text: '1', json: 1, value: 1 },
    b: { text: '100000', json: 100000, value: 100000 },
  },
  loginWindow: {
    a: { text: '1m', json: '1m', value: 60 },
    b: { text: '1d', json: 86400, value: 86400 },
  },
  logLevel: {
    a: { text: 'debug', json: 'debug', value: 'debug' },
    b: { text: 'SILENT', json: 'fatal', value: 'silent' },
  },
};

// Settings read by other tests: the file itself, and the environment-only ones.
const ELSEWHERE: readonly SettingName[] = [
  'configFile',
  'keysSecret',
  'feedToken',
  'adminUser',
  'adminPassword',
];

function flagArgs(entry: ServerSetting, sample: Sample): string[] {
  if (entry.kind.type === 'boolean') {
    return [sample.value === true ? `--${entry.flag}` : `--no-${entry.flag}`];
  }
  // On/off like a boolean, its list only inline.
  if (entry.kind.type === 'proxy') {
    return [sample.value === false ? `--no-${entry.flag}` : `--${entry.flag}=${sample.text}`];
  }
  return [`--${entry.flag}`, sample.text];
}

// The file value as read: b's JSON of audience and bodyLimit differ from b's text.
const FILE_VALUE: Partial<Record<SettingName, unknown>> = {
  audience: ['mobile', 'admin'],
  refreshGrace: 60,
  bodyLimit: 1048576,
  logLevel: 'fatal',
};

describe('every setting from every source', () => {
  it('every setting is sampled here or tested elsewhere', () => {
    for (const entry of SERVER_SETTINGS) {
      assert.ok(
        SAMPLES[entry.name] !== undefined || ELSEWHERE.includes(entry.name),
        `no sample for ${entry.name}`,
      );
    }
  });

  for (const entry of SERVER_SETTINGS) {
    const samples = SAMPLES[entry.name];
    if (samples === undefined) continue;
    const field = entry.name as ConfigField;
    const context = samples.env ?? {};

    it(`${entry.name}: from --${entry.flag}, --${entry.flag}=VALUE, ${entry.env}, the file, in that order`, () => {
      const dir = tempDir();
      const file = writeConfig(dir, { [entry.name]: samples.b.json });
      const withFile = { ...context, REVOCABLE_CONFIG: file };

      const fromFlag = load(flagArgs(entry, samples.a), {
        ...withFile,
        [entry.env]: samples.b.text,
      });
      assert.deepEqual(fromFlag[field], samples.a.value);
      assert.equal(fromFlag.sources[field], 'flag');

      const inline = load([`--${entry.flag}=${samples.a.text}`], context);
      assert.deepEqual(inline[field], samples.a.value);

      const fromEnv = load([], { ...withFile, [entry.env]: samples.a.text });
      assert.deepEqual(fromEnv[field], samples.a.value);
      assert.equal(fromEnv.sources[field], 'env');

      const fromFile = load([], withFile);
      assert.deepEqual(fromFile[field], FILE_VALUE[entry.name] ?? samples.b.value);
      assert.equal(fromFile.sources[field], 'file');

      const fromDefault = load([], context);
      assert.equal(fromDefault.sources[field], 'default');
      if (entry.default !== null && entry.kind.type !== 'path') {
        assert.deepEqual(fromDefault[field], entry.default);
      }
    });
  }

  it('an empty variable counts as unset', () => {
    const config = load([], { PORT: '', REDIS_URL: '' });
    assert.equal(config.port, 3000);
    assert.equal(config.sources.port, 'default');
    assert.equal(config.redisUrl, null);
  });

  it('a file key set to null counts as absent', () => {
    const dir = tempDir();
    const config = load(['--config', writeConfig(dir, { port: null, redisUrl: null })]);
    assert.equal(config.port, 3000);
    assert.equal(config.sources.port, 'default');
  });
});

describe('defaults and derived settings', () => {
  it('a configuration from nothing: SQLite mode, localhost, ./data of the working folder', () => {
    const dir = tempDir();
    const config = load([], {}, dir);
    assert.equal(config.mode, 'sqlite');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 3000);
    assert.equal(config.dataDir, join(dir, 'data'));
    assert.equal(config.issuer, 'http://localhost:3000');
    assert.deepEqual(config.audience, ['revocable']);
    assert.equal(config.keysSecret, null);
    assert.equal(config.admin, null);
    assert.equal(config.configFile, null);
    assert.equal(config.cookieSecure, true);
  });

  it('relative data folders: from the working folder for flags and variables, from the file for the file', () => {
    const dir = tempDir();
    assert.equal(load(['--data', 'x'], {}, dir).dataDir, join(dir, 'x'));
    assert.equal(
      load([], { REVOCABLE_DATA_DIR: '../y' }, join(dir, 'sub')).dataDir,
      join(dir, 'y'),
    );
    const file = writeConfig(dir, { dataDir: 'state' });
    assert.equal(load(['--config', file], {}, '/').dataDir, join(dir, 'state'));
  });

  it('the default issuer follows the port, and a specific host', () => {
    assert.equal(load(['--port', '8080']).issuer, 'http://localhost:8080');
    assert.equal(load(['--host', '0.0.0.0']).issuer, 'http://localhost:3000');
    assert.equal(load(['--host', '10.1.2.3']).issuer, 'http://10.1.2.3:3000');
    assert.equal(load(['--host', 'fd00::1']).issuer, 'http://[fd00::1]:3000');
    assert.equal(load(['--host', 'auth.internal']).issuer, 'http://auth.internal:3000');
    assert.equal(load(['--issuer', 'urn:x', '--port', '9']).issuer, 'urn:x');
  });

  it('cluster mode when a database URL is set; the keys secret and admin come from the environment', () => {
    const config = load([], {
      ...CLUSTER_ENV,
      DATABASE_URL: 'postgres://db/app',
      REVOCABLE_ADMIN_USER: 'root',
      REVOCABLE_ADMIN_PASSWORD: 'correct horse',
    });
    assert.equal(config.mode, 'cluster');
    assert.equal(config.keysSecret, CLUSTER_ENV.REVOCABLE_KEYS_SECRET);
    assert.equal(config.sources.keysSecret, 'env');
    assert.deepEqual({ ...config.admin }, { username: 'root', password: 'correct horse' });
    assert.equal(config.sources.admin, 'env');
  });

  it('a keys secret is optional in SQLite mode, and used when given', () => {
    const config = load([], { REVOCABLE_KEYS_SECRET: CLUSTER_ENV.REVOCABLE_KEYS_SECRET });
    assert.equal(config.mode, 'sqlite');
    assert.equal(config.keysSecret, CLUSTER_ENV.REVOCABLE_KEYS_SECRET);
  });

  it('the configuration file: from --config over REVOCABLE_CONFIG, relative to the working folder', () => {
    const dir = tempDir();
    const one = writeConfig(dir, { port: 1 }, 'one.json');
    const two = writeConfig(dir, { port: 2 }, 'two.json');
    const config = load(['--config', 'one.json'], { REVOCABLE_CONFIG: two }, dir);
    assert.equal(config.port, 1);
    assert.equal(config.configFile, one);
    assert.equal(config.sources.configFile, 'flag');
    const fromEnv = load([], { REVOCABLE_CONFIG: two }, dir);
    assert.equal(fromEnv.port, 2);
    assert.equal(fromEnv.sources.configFile, 'env');
  });

  it('the result is frozen and its sources name every field', () => {
    const config = load();
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.audience));
    assert.ok(Object.isFrozen(config.sources));
    const fields = Object.keys(config).filter((key) => key !== 'mode' && key !== 'sources');
    assert.deepEqual(Object.keys(config.sources).sort(), fields.sort());
  });

  it('booleans: --flag, --no-flag, --flag=VALUE', () => {
    assert.equal(load(['--fingerprint']).fingerprint, true);
    assert.equal(load(['--no-fingerprint'], { REVOCABLE_FINGERPRINT: 'true' }).fingerprint, false);
    assert.equal(load(['--fingerprint=false']).fingerprint, false);
    assert.equal(load(['--no-cookie-secure']).cookieSecure, false);
  });

  it('--trust-proxy: on means the private ranges, never every address; no hop count', () => {
    const privateRanges = ['loopback', 'linklocal', 'uniquelocal'];
    assert.deepEqual(load(['--trust-proxy']).trustProxy, privateRanges);
    assert.deepEqual(load([], { REVOCABLE_TRUST_PROXY: 'YES' }).trustProxy, privateRanges);
    assert.equal(load(['--no-trust-proxy'], { REVOCABLE_TRUST_PROXY: 'on' }).trustProxy, false);
    assert.equal(load([]).trustProxy, false);
    assert.deepEqual(load(['--trust-proxy=fd00::/8,203.0.113.9']).trustProxy, [
      'fd00::/8',
      '203.0.113.9',
    ]);
  });
});
