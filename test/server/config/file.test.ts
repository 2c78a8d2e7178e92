import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { load, oneProblem, refuse, tempDir, writeConfig } from './helpers.js';

describe('the configuration file', () => {
  it('reads every setting it may hold, with a byte-order mark too', () => {
    const dir = tempDir();
    const file = writeConfig(dir, `\uFEFF${JSON.stringify({ port: 4000, logLevel: 'warn' })}`);
    const config = load(['--config', file]);
    assert.equal(config.port, 4000);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.configFile, file);
  });

  it('a file that does not exist, or is a folder: names the flag or variable and the path', () => {
    const dir = tempDir();
    const missing = join(dir, 'missing.json');
    assert.equal(
      oneProblem(['--config', missing]),
      `--config names ${missing}, which cannot be read: no such file`,
    );
    assert.equal(
      oneProblem([], { REVOCABLE_CONFIG: 'missing.json' }, dir),
      `REVOCABLE_CONFIG names ${missing}, which cannot be read: no such file`,
    );
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    assert.equal(
      oneProblem(['--config', folder]),
      `--config names ${folder}, which cannot be read: it is a folder`,
    );
  });

  it('invalid JSON: where, never the text around it', () => {
    const dir = tempDir();
    const file = writeConfig(dir, '{\n  "port": 80,\n  "issuer": hunter2\n}');
    const problem = oneProblem(['--config', file]);
    assert.equal(problem, `${file} is not valid JSON (line 3, column 13)`);
  });

  it('JSON that is not an object', () => {
    const dir = tempDir();
    for (const text of ['[1]', '"port"', 'null', '3']) {
      const file = writeConfig(dir, text);
      assert.equal(
        oneProblem(['--config', file]),
        `${file} must hold a JSON object of settings, like {"port": 8080}`,
      );
    }
  });

  it('unknown keys, with the closest setting; keys of other spellings', () => {
    const file = writeConfig(tempDir(), { prot: 1, access_ttl: '1m', PORT: 1, zzz: 1 });
    assert.deepEqual(refuse(['--config', file]).problems, [
      `${file}: prot is not a setting (did you mean port?)`,
      `${file}: access_ttl is not a setting (did you mean accessTtl?)`,
      `${file}: PORT is not a setting (did you mean port?)`,
      `${file}: zzz is not a setting`,
    ]);
  });

  it('a key that does not look like a name is not echoed', () => {
    const file = writeConfig(tempDir(), { 'has spaces and: punctuation!': 1 });
    assert.equal(
      oneProblem(['--config', file]),
      `${file}: a key is not a setting of revocable serve`,
    );
  });

  it('secrets are refused, with where they belong; so is a file naming another', () => {
    const file = writeConfig(tempDir(), {
      keysSecret: 'x'.repeat(40),
      adminUser: 'root',
      adminPassword: 'correct horse',
      admin: { username: 'root' },
      configFile: 'other.json',
    });
    const { problems } = refuse(['--config', file]);
    assert.deepEqual(problems, [
      `${file}: keysSecret is not read from a configuration file (files get copied and committed): set REVOCABLE_KEYS_SECRET in the environment, from your secret manager`,
      `${file}: adminUser is not read from a configuration file (files get copied and committed): set REVOCABLE_ADMIN_USER and REVOCABLE_ADMIN_PASSWORD in the environment`,
      `${file}: adminPassword is not read from a configuration file (files get copied and committed): set REVOCABLE_ADMIN_USER and REVOCABLE_ADMIN_PASSWORD in the environment`,
      `${file}: admin is not read from a configuration file (files get copied and committed): set REVOCABLE_ADMIN_USER and REVOCABLE_ADMIN_PASSWORD in the environment`,
      `${file}: configFile cannot be set in a configuration file`,
    ]);
  });

  it('the file is below flags and variables, above defaults', () => {
    const file = writeConfig(tempDir(), { port: 1, host: '0.0.0.0', logLevel: 'debug' });
    const config = load(['--config', file, '--port', '2'], { HOST: '::' });
    assert.deepEqual(
      [config.port, config.host, config.logLevel, config.accessTtl],
      [2, '::', 'debug', 600],
    );
    assert.deepEqual(
      [config.sources.port, config.sources.host, config.sources.logLevel, config.sources.accessTtl],
      ['flag', 'env', 'file', 'default'],
    );
  });

  it('a bad value is reported even where a flag or variable overrides it', () => {
    const file = writeConfig(tempDir(), { port: 'x' });
    assert.deepEqual(refuse(['--config', file, '--port', '1'], { PORT: 'y' }).problems, [
      'PORT must be an integer from 0 to 65535',
      `${file}: port must be a number (an integer from 0 to 65535), not a string`,
    ]);
  });
});
