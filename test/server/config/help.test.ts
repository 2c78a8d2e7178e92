import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatValue,
  loadServerConfig,
  SERVER_SETTINGS,
  type ServerConfig,
  serveHelp,
} from '../../../src/server/config/index.js';
import { load } from './helpers.js';

const HELP = serveHelp();

/** The lines of one setting's entry in the help: its first line and those indented under it. */
function entryOf(start: string): string {
  const lines = HELP.split('\n');
  const first = lines.findIndex((line) => line.startsWith(`  ${start} `) || line === `  ${start}`);
  assert.ok(first >= 0, `no entry for ${start}`);
  const entry = [lines[first]!];
  for (const line of lines.slice(first + 1)) {
    if (!/^ {6,}/.test(line)) break;
    entry.push(line);
  }
  return entry.join(' ').replace(/\s+/g, ' ');
}

function leftOf({ flag, env, kind, placeholder }: (typeof SERVER_SETTINGS)[number]): string {
  if (flag === null) return env;
  if (kind.type === 'boolean') return `--[no-]${flag}`;
  if (kind.type === 'proxy') return `--[no-]${flag}[=${placeholder}]`;
  return `--${flag}`;
}

describe('serveHelp', () => {
  it('starts with the usage line and fits in 100 columns', () => {
    assert.ok(HELP.startsWith('Usage: revocable serve [options]\n'));
    for (const line of HELP.split('\n')) assert.ok(line.length <= 100, line);
    assert.ok(HELP.endsWith('\n'));
  });

  it('lists every flag with its variable, file key, range and default', () => {
    for (const entry of SERVER_SETTINGS) {
      const text = entryOf(leftOf(entry));
      if (entry.flag !== null) assert.ok(text.includes(`env ${entry.env}`), text);
      assert.equal(text.includes(`file key ${entry.name}`), entry.inFile, text);
      const shown = entry.defaultText ?? formatValue(entry.kind, entry.default ?? '');
      assert.ok(text.includes(`default ${shown}`), text);
      assert.ok(text.includes(entry.help.split(' ').slice(0, 4).join(' ')), text);
    }
  });

  it('the defaults it shows are the defaults loaded', () => {
    const config = load();
    for (const entry of SERVER_SETTINGS) {
      if (entry.default === null || entry.defaultText !== undefined) continue;
      const value = config[entry.name as keyof ServerConfig];
      assert.notEqual(value, undefined, entry.name);
      const text = entryOf(leftOf(entry));
      assert.ok(text.includes(`default ${formatValue(entry.kind, value as never)})`), text);
    }
  });

  it('secrets are under "Environment only", never as flags', () => {
    const envOnly = HELP.slice(HELP.indexOf('Environment only:'));
    for (const name of [
      'REVOCABLE_KEYS_SECRET',
      'REVOCABLE_ADMIN_USER',
      'REVOCABLE_ADMIN_PASSWORD',
    ]) {
      assert.ok(envOnly.includes(`  ${name}`), name);
    }
    assert.doesNotMatch(HELP, /--keys-secret|--admin-password|--admin-user/);
  });

  it('--help and -h are asked for whatever else is wrong; after -- they are not', () => {
    for (const argv of [['--help'], ['-h'], ['--bogus', 'x', '--help'], ['--port', 'x', '-h']]) {
      assert.equal(loadServerConfig({ argv, env: { PORT: 'bad' } }), 'help', argv.join(' '));
    }
    assert.throws(() => loadServerConfig({ argv: ['--', '--help'], env: {} }), /1 extra word/);
  });
});
