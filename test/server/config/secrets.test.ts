import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  describeConfig,
  loadServerConfig,
  redactUrl,
  ServerConfigError,
} from '../../../src/server/config/index.js';
import { CLUSTER_ENV, load, refuse, SECRET, tempDir, writeConfig } from './helpers.js';

// Recognisable strings for every kind of secret; none may appear in any output.
const PASSWORD = 'CANARY-admin-password';
const DB_PASSWORD = 'CANARY-db-password';
const REDIS_PASSWORD = 'CANARY-redis-password';
const FEED_TOKEN = 'CANARY-feed-token-of-at-least-32-bytes';
const CANARY = /CANARY/;

const CLUSTER = {
  ...CLUSTER_ENV,
  DATABASE_URL: `postgres://app:${DB_PASSWORD}@db:5432/app?sslpassword=${DB_PASSWORD}`,
  REDIS_URL: `rediss://default:${REDIS_PASSWORD}@cache:6380`,
  REVOCABLE_ADMIN_USER: 'root',
  REVOCABLE_ADMIN_PASSWORD: PASSWORD,
  REVOCABLE_FEED_TOKEN: FEED_TOKEN,
};

function messagesOf(argv: readonly string[], env: Record<string, string>): string {
  try {
    loadServerConfig({ argv, env, cwd: tempDir() });
  } catch (error) {
    assert.ok(error instanceof ServerConfigError, String(error));
    return `${error.message}\n${error.problems.join('\n')}\n${inspect(error)}`;
  }
  assert.fail('accepted');
}

describe('secrets never appear', () => {
  it('the configuration holds them for the server', () => {
    const config = load([], CLUSTER);
    assert.equal(config.keysSecret, SECRET);
    assert.equal(config.feedToken, FEED_TOKEN);
    assert.equal(config.admin?.password, PASSWORD);
    assert.equal(config.databaseUrl, CLUSTER.DATABASE_URL);
    assert.equal(config.redisUrl, CLUSTER.REDIS_URL);
  });

  it('not in describeConfig', () => {
    const text = describeConfig(load([], CLUSTER));
    assert.doesNotMatch(text, CANARY);
    assert.match(text, /keysSecret +set +\(env\)/);
    assert.match(text, /feedToken +set +\(env\)/);
    assert.match(text, /admin +root \(password set\) +\(env\)/);
    assert.match(
      text,
      /databaseUrl +postgres:\/\/app:\*\*\*@db:5432\/app\?sslpassword=\*\*\* +\(env\)/,
    );
    assert.match(text, /redisUrl +rediss:\/\/default:\*\*\*@cache:6380 +\(env\)/);
  });

  it('not in JSON.stringify or util.inspect of the configuration', () => {
    const config = load([], CLUSTER);
    for (const text of [
      JSON.stringify(config),
      inspect(config),
      inspect({ config }, { depth: 5 }),
    ]) {
      assert.doesNotMatch(text, CANARY);
      assert.match(text, /\*\*\*/);
    }
    assert.equal(JSON.parse(JSON.stringify(config)).port, 3000);
  });

  it('not in errors about them', () => {
    const cases: [string[], Record<string, string>][] = [
      [['--keys-secret', SECRET], {}],
      [[`--keys-secret=${SECRET}`], {}],
      [['--admin-password', PASSWORD], {}],
      [[SECRET], {}],
      [['--issuer', SECRET, SECRET], {}],
      [[`--keysecret=${SECRET}`], {}],
      [[`--${SECRET}`], {}],
      [['--port', SECRET], {}],
      [[], { REVOCABLE_KEYS_SECRET: 'CANARY-short' }],
      [[], { REVOCABLE_ADMIN_PASSWORD: PASSWORD }],
      [[], { REVOCABLE_ADMIN_USER: 'root', REVOCABLE_ADMIN_PASSWORD: 'CANARY' }],
      [[], { DATABASE_URL: `mysql://app:${DB_PASSWORD}@db/app` }],
      [[], { DATABASE_URL: `postgres://app:${DB_PASSWORD}@db/app` }],
      [[], { REDIS_URL: `redis://:${REDIS_PASSWORD}@cache` }],
      [[], { ...CLUSTER, REDIS_URL: `http://:${REDIS_PASSWORD}@cache` }],
      [[], { REVOCABLE_ISSUER: `has ${SECRET} space` }],
      [[], { PORT: SECRET }],
    ];
    for (const [argv, env] of cases) {
      const text = messagesOf(argv, env);
      assert.doesNotMatch(text, CANARY, text);
    }
  });

  it('not in errors about a file that holds them', () => {
    const dir = tempDir();
    const file = writeConfig(dir, {
      keysSecret: SECRET,
      databaseUrl: `mysql://a:${DB_PASSWORD}@x`,
    });
    const broken = writeConfig(dir, `{"keysSecret": "${SECRET}" oops}`, 'broken.json');
    for (const path of [file, broken]) {
      const error = refuse(['--config', path]);
      assert.doesNotMatch(`${error.message}\n${inspect(error)}`, CANARY);
    }
  });

  it('redactUrl: passwords and credential-like parameters only', () => {
    assert.equal(redactUrl('postgres://app:pw@db/app'), 'postgres://app:***@db/app');
    assert.equal(
      redactUrl('postgres://app@db/app?sslmode=require'),
      'postgres://app@db/app?sslmode=require',
    );
    assert.equal(redactUrl('redis://:pw@cache:6379/0'), 'redis://:***@cache:6379/0');
    assert.equal(
      redactUrl('postgres://db/app?password=pw&x=1'),
      'postgres://db/app?password=***&x=1',
    );
    assert.equal(redactUrl('not a url pw'), '***');
  });
});
