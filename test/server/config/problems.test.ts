import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RevocableError } from '../../../src/errors/index.js';
import {
  SERVER_SETTINGS,
  ServerConfigError,
  type SettingName,
} from '../../../src/server/config/index.js';
import { CLUSTER_ENV, load, oneProblem, refuse, SECRET, tempDir, writeConfig } from './helpers.js';

/** Bad values of each setting: as text (flags and variables), and as JSON (the file). */
const BAD: Partial<
  Record<SettingName, { text: string[]; json: unknown[]; env?: Record<string, string> }>
> = {
  port: { text: ['65536', '-1', 'abc', '80.5', '0x50'], json: ['8080', 70000, 1.5, true] },
  host: { text: ['bad host', 'a..b', 'under_score', '-x'], json: [1, ''] },
  dataDir: { text: ['a\nb'], json: [5, ''] },
  accessTtl: { text: ['5s', '2d', '10x', '-5', '1.5'], json: [true, 5, 1.5, '1w'] },
  refreshGrace: { text: ['6m'], json: [301, []] },
  idleTimeout: { text: ['30s', '366d'], json: [{}] },
  sessionLifetime: { text: ['59', '400d'], json: ['0'] },
  issuer: { text: ['has space', 'tab\there'], json: [['a'], ''] },
  audience: { text: ['a,,b', 'a b', ','], json: [[], ['a', 1], 5, ['']] },
  maxStaleness: { text: ['0', '2h'], json: [0] },
  databaseUrl: { text: ['mysql://u:p@h/db', 'not a url'], json: [5, 'redis://x'] },
  redisUrl: {
    text: ['http://x', 'redis'],
    json: [false],
    env: { ...CLUSTER_ENV, DATABASE_URL: 'postgres://db/app' },
  },
  redisPrefix: { text: ['has space', 'x'.repeat(65), 'é'], json: [1] },
  pgSchema: { text: ['Auth', '1abc', 'pg_x', 'a-b', 'x'.repeat(64)], json: [true] },
  registration: { text: ['maybe'], json: [true] },
  cookieSecure: { text: ['maybe', 'truthy'], json: ['true', 1] },
  fingerprint: { text: ['2'], json: ['on'] },
  trustProxy: {
    text: [
      'y',
      '2',
      '10.0.0.0/33',
      'proxy.internal',
      '10.0.0.1,,10.0.0.2',
      '::1/129',
      '::/0',
      '10.0.0.0/0',
      '::ffff:10.0.0.1',
      '::ffff:a00:0/104',
    ],
    json: [0, 2, [], ['10.0.0.1', 5], 'all'],
  },
  bodyLimit: { text: ['1023', '2MiB', '16kb', '1.5KiB'], json: [1023, true, '2MiB'] },
  requestTimeout: { text: ['0', '11m', 'soon'], json: [0, '1h'] },
  maxStreams: { text: ['0', '100001', 'many'], json: [0, '10'] },
  maxStreamsPerAddress: { text: ['0', '1.5'], json: [true, -1] },
  loginAccountLimit: { text: ['0', '1001'], json: [0] },
  loginAddressLimit: { text: ['0', '100001'], json: ['10'] },
  loginWindow: { text: ['30s', '2d'], json: [30] },
  logLevel: { text: ['trace'], json: [1] },
};

describe('every bad value produces its line', () => {
  for (const entry of SERVER_SETTINGS) {
    const bad = BAD[entry.name];
    if (bad === undefined || entry.flag === null) continue;
    const context = bad.env ?? {};

    it(`${entry.name}: from --${entry.flag}, ${entry.env} and the file`, () => {
      for (const text of bad.text) {
        const flagged = oneProblem([`--${entry.flag}=${text}`], context);
        assert.ok(flagged.startsWith(`--${entry.flag} must be `), flagged);
        const fromEnv = oneProblem([], { ...context, [entry.env]: text });
        assert.ok(fromEnv.startsWith(`${entry.env} must be `), fromEnv);
        assert.equal(fromEnv.slice(entry.env.length), flagged.slice(`--${entry.flag}`.length));
      }
      const dir = tempDir();
      for (const json of bad.json) {
        const file = writeConfig(dir, { [entry.name]: json });
        const fromFile = oneProblem(['--config', file], context);
        assert.ok(fromFile.startsWith(`${file}: ${entry.name} must be `), fromFile);
      }
    });
  }

  it('every setting with a flag has bad values here', () => {
    for (const entry of SERVER_SETTINGS) {
      if (entry.flag !== null && entry.name !== 'configFile') {
        assert.ok(BAD[entry.name] !== undefined, entry.name);
      }
    }
  });

  it('a value starting with - after a flag: numbers are read as the value, others are not', () => {
    assert.equal(oneProblem(['--port', '-1']), '--port must be an integer from 0 to 65535');
    assert.equal(
      oneProblem(['--issuer', '-x']),
      '--issuer needs a value (write --issuer=VALUE for a value that starts with -)',
    );
  });

  it('a file of the wrong JSON type says which type it holds', () => {
    const file = writeConfig(tempDir(), { port: '8080', fingerprint: 'yes', audience: 3 });
    assert.deepEqual(refuse(['--config', file]).problems, [
      `${file}: port must be a number (an integer from 0 to 65535), not a string`,
      `${file}: audience must be an array of strings or a comma-separated string, not a number`,
      `${file}: fingerprint must be true or false, not a string`,
    ]);
  });

  it('all bad values together: one error, one line each, in the order of the help', () => {
    const env: Record<string, string> = {};
    const names: string[] = [];
    for (const entry of SERVER_SETTINGS) {
      const bad = BAD[entry.name];
      if (bad === undefined) continue;
      env[entry.env] = bad.text[0]!;
      names.push(entry.env);
    }
    const error = refuse([], env);
    assert.equal(error.problems.length, names.length, error.problems.join('\n'));
    assert.deepEqual(
      error.problems.map((problem) => problem.split(' ')[0]),
      names,
    );
    const lines = error.message.split('\n');
    assert.equal(lines[0], `The server configuration has ${names.length} problems:`);
    assert.deepEqual(
      lines.slice(1),
      error.problems.map((problem) => `  ${problem}`),
    );
  });

  it('flags, variables and the file: all their problems at once', () => {
    const file = writeConfig(tempDir(), { port: 'x', bogus: 1 });
    const error = refuse(['--config', file, '--access-ttl', '1y', '--prot', '1'], {
      REVOCABLE_LOG_LEVEL: 'loud',
    });
    assert.deepEqual(error.problems, [
      'unknown option --prot (did you mean --port?)',
      `${file}: bogus is not a setting`,
      `${file}: port must be a number (an integer from 0 to 65535), not a string`,
      '--access-ttl must be a duration from 10s to 1d: seconds, or a number with s, m, h or d (like 10m)',
      'REVOCABLE_LOG_LEVEL must be one of fatal, error, warn, info, debug, silent',
    ]);
  });
});

describe('the error', () => {
  it('is a ServerConfigError: a RevocableError with code ERR_SERVER_CONFIG and its problems', () => {
    const error = refuse(['--port', 'x']);
    assert.ok(error instanceof ServerConfigError);
    assert.ok(error instanceof RevocableError);
    assert.equal(error.code, 'ERR_SERVER_CONFIG');
    assert.equal(error.name, 'ServerConfigError');
    assert.deepEqual(error.problems, ['--port must be an integer from 0 to 65535']);
    assert.equal(
      error.message,
      'The server configuration has a problem:\n  --port must be an integer from 0 to 65535',
    );
    assert.ok(Object.isFrozen(error.problems));
  });
});

describe('settings that conflict', () => {
  it('REDIS_URL without DATABASE_URL', () => {
    assert.equal(
      oneProblem([], { REDIS_URL: 'redis://cache' }),
      'REDIS_URL needs DATABASE_URL: the cluster keeps users and sessions in PostgreSQL',
    );
    assert.equal(
      oneProblem(['--redis-url', 'redis://cache']),
      '--redis-url needs DATABASE_URL: the cluster keeps users and sessions in PostgreSQL',
    );
  });

  it('cluster mode without a keys secret, or with a short one', () => {
    const env = { DATABASE_URL: 'postgres://db/app', REVOCABLE_ISSUER: 'urn:x' };
    assert.match(oneProblem([], env), /^REVOCABLE_KEYS_SECRET is not set; cluster mode/);
    assert.equal(
      oneProblem([], { ...env, REVOCABLE_KEYS_SECRET: 'twelve bytes' }),
      'REVOCABLE_KEYS_SECRET is 12 bytes; it must be at least 32',
    );
  });

  it('a short keys secret in SQLite mode too: bytes of UTF-8, not characters', () => {
    assert.equal(
      oneProblem([], { REVOCABLE_KEYS_SECRET: 'é'.repeat(15) }),
      'REVOCABLE_KEYS_SECRET is 30 bytes; it must be at least 32',
    );
    assert.equal(load([], { REVOCABLE_KEYS_SECRET: 'é'.repeat(16) }).keysSecret, 'é'.repeat(16));
  });

  it('a feed token of at least 32 bytes, or none', () => {
    assert.equal(
      oneProblem([], { REVOCABLE_FEED_TOKEN: 'short token' }),
      'REVOCABLE_FEED_TOKEN is 11 bytes; it must be at least 32',
    );
    for (const bad of [`${'t'.repeat(32)} x`, `${'t'.repeat(32)}!`, `é${'t'.repeat(32)}`]) {
      const problem = oneProblem([], { REVOCABLE_FEED_TOKEN: bad });
      assert.match(problem, /^REVOCABLE_FEED_TOKEN must be letters, digits/);
      assert.ok(!problem.includes(bad), 'the token is never shown');
    }
    assert.equal(load([], {}).feedToken, null);
    assert.equal(load([], { REVOCABLE_FEED_TOKEN: 't'.repeat(32) }).feedToken, 't'.repeat(32));
  });

  it('cluster mode without an issuer: one named after the deployment, the same in every process', () => {
    const env = { DATABASE_URL: 'postgres://db/app', REVOCABLE_KEYS_SECRET: SECRET };
    assert.equal(load(['--port', '1'], env).issuer, 'urn:revocable:revocable');
    assert.equal(
      load(['--port', '2', '--pg-schema', 'auth_a'], env).issuer,
      'urn:revocable:auth_a',
    );
  });

  it('the admin user without a password, a password without a user, a short password', () => {
    assert.equal(
      oneProblem([], { REVOCABLE_ADMIN_USER: 'root' }),
      'REVOCABLE_ADMIN_USER is set without REVOCABLE_ADMIN_PASSWORD: set both or neither',
    );
    assert.equal(
      oneProblem([], { REVOCABLE_ADMIN_PASSWORD: 'correct horse' }),
      'REVOCABLE_ADMIN_PASSWORD is set without REVOCABLE_ADMIN_USER: set both or neither',
    );
    assert.equal(
      oneProblem([], { REVOCABLE_ADMIN_USER: 'root', REVOCABLE_ADMIN_PASSWORD: 'short' }),
      'REVOCABLE_ADMIN_PASSWORD is 5 characters; it must be at least 8',
    );
    assert.equal(
      oneProblem([], { REVOCABLE_ADMIN_USER: ' root', REVOCABLE_ADMIN_PASSWORD: 'long enough' }),
      'REVOCABLE_ADMIN_USER must be a user name without control characters or spaces around it',
    );
  });

  it('a session lifetime not longer than the access-token lifetime', () => {
    assert.equal(
      oneProblem(['--session-lifetime', '10m']),
      '--session-lifetime must be longer than the access-token lifetime, --access-ttl / ' +
        'REVOCABLE_ACCESS_TTL (default 10m): no session would outlive its first token',
    );
    assert.match(
      oneProblem(['--access-ttl', '1d'], {
        REVOCABLE_SESSION_LIFETIME: '12h',
        REVOCABLE_IDLE_TIMEOUT: '2d',
      }),
      /^REVOCABLE_SESSION_LIFETIME must be longer than the access-token lifetime, --access-ttl:/,
    );
  });

  it('an idle timeout shorter than the access-token lifetime; longer than the lifetime is fine', () => {
    assert.match(
      oneProblem(['--idle-timeout', '5m']),
      /^--idle-timeout must be at least the access-token lifetime, --access-ttl \/ REVOCABLE_ACCESS_TTL \(default 10m\)/,
    );
    assert.equal(load(['--idle-timeout', '60d']).idleTimeout, 60 * 86400);
  });

  it('conflicts are not checked between settings that are already wrong', () => {
    assert.deepEqual(refuse(['--access-ttl', 'x', '--session-lifetime', '1m']).problems, [
      '--access-ttl must be a duration from 10s to 1d: seconds, or a number with s, m, h or d (like 10m)',
    ]);
    assert.deepEqual(refuse([], { DATABASE_URL: 'x', REDIS_URL: 'redis://c' }).problems, [
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
    ]);
  });
});

describe('command-line problems', () => {
  it('unknown options, with the closest one', () => {
    assert.deepEqual(
      refuse(['--prot', '80', '--acess-ttl=1m', '--data-dir', 'x', '--zzz', '-p']).problems,
      [
        'unknown option --prot (did you mean --port?)',
        'unknown option --acess-ttl (did you mean --access-ttl?)',
        'unknown option --data-dir (did you mean --data?)',
        'unknown option --zzz',
        'unknown option -p',
      ],
    );
    assert.equal(
      oneProblem(['--access_ttl=1m']),
      'unknown option --access_ttl (did you mean --access-ttl?)',
    );
  });

  it('an option that does not look like a name is not echoed', () => {
    assert.equal(
      oneProblem(['--a b c=d']),
      'an unknown option was given; see revocable serve --help',
    );
  });

  it('arguments', () => {
    assert.equal(
      oneProblem(['8080']),
      'revocable serve takes options only, not arguments (1 extra word); see revocable serve --help',
    );
    assert.match(oneProblem(['--', '--port', '1']), /\(2 extra words\)/);
  });

  it('an option given twice, booleans in either form included', () => {
    assert.equal(oneProblem(['--port', '1', '--port=2']), '--port is given more than once');
    assert.equal(
      oneProblem(['--fingerprint', '--no-fingerprint']),
      '--fingerprint is given more than once',
    );
  });

  it('an option without its value', () => {
    assert.equal(oneProblem(['--port']), '--port needs a value');
    assert.equal(oneProblem(['--port=']), '--port needs a value');
    assert.equal(oneProblem(['--host', '']), '--host needs a value');
    assert.equal(oneProblem(['--fingerprint=']), '--fingerprint needs a value after =');
  });

  it('boolean mistakes: a separate value, --no- with a value, --no- before a valued option', () => {
    assert.equal(
      oneProblem(['--fingerprint', 'False']),
      '--fingerprint takes no separate value: write --fingerprint=false (or --no-fingerprint)',
    );
    assert.equal(oneProblem(['--no-trust-proxy=1']), '--no-trust-proxy takes no value');
    assert.equal(
      oneProblem(['--trust-proxy', '10.0.0.1']),
      '--trust-proxy takes its list after =: write --trust-proxy=ADDRESSES',
    );
    assert.equal(oneProblem(['--no-port']), '--no-port is not an option: --port is not on/off');
  });

  it('secrets as options: refused, with where to put them', () => {
    for (const [flag, env] of [
      ['keys-secret', 'REVOCABLE_KEYS_SECRET'],
      ['feed-token', 'REVOCABLE_FEED_TOKEN'],
      ['admin-password', 'REVOCABLE_ADMIN_PASSWORD'],
      ['admin-user', 'REVOCABLE_ADMIN_USER'],
    ]) {
      // The value after it is taken as its value, not reported as a stray argument.
      assert.equal(
        oneProblem([`--${flag}`, 'value']),
        `--${flag} is not an option: a command line is visible to every user of the machine ` +
          `(ps); set ${env} in the environment`,
      );
    }
  });
});

describe('environment problems', () => {
  it('a REVOCABLE_ variable that is no setting, with the closest one', () => {
    assert.deepEqual(
      refuse([], { REVOCABLE_ACESS_TTL: '1m', REVOCABLE_WHATEVER: 'x', OTHER_THING: 'y' }).problems,
      [
        'REVOCABLE_ACESS_TTL is not a setting of revocable serve (did you mean REVOCABLE_ACCESS_TTL?)',
        'REVOCABLE_WHATEVER is not a setting of revocable serve',
      ],
    );
  });
});
