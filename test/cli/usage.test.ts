import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { GROUPS } from '../../src/cli/run.js';
import { Workspace } from './harness.js';

const COMMANDS = GROUPS.flatMap((group) => group.commands.map((command) => command.spec));

describe('help', () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    it(`revocable ${args.join(' ')} lists every command`, async () => {
      const result = await new Workspace().run(...args);
      assert.equal(result.status, 0);
      assert.equal(result.stderr, '');
      assert.match(result.stdout, /^Usage: revocable <command>/);
      for (const spec of COMMANDS) assert.ok(result.stdout.includes(spec.path), spec.path);
    });
  }

  it('tells how to capture output: npx revocable, not npm start', async () => {
    const help = (await new Workspace().ok('--help')).replace(/\s+/g, ' ');
    assert.match(help, /> token\.txt\), run revocable directly, or npx revocable \.\.\./);
    assert.match(help, /not through an npm script, which adds npm's own lines to the output/);
  });

  for (const group of GROUPS) {
    for (const args of [
      [group.name, '--help'],
      [group.name, '-h'],
      ['help', group.name],
    ]) {
      it(`revocable ${args.join(' ')} lists the ${group.name} commands`, async () => {
        const result = await new Workspace().run(...args);
        assert.equal(result.status, 0);
        assert.match(result.stdout, new RegExp(`^Usage: revocable ${group.name} <command>`));
      });
    }
  }

  for (const spec of COMMANDS) {
    it(`revocable ${spec.path} --help shows its usage and every option`, async () => {
      const workspace = new Workspace();
      for (const args of [
        [...spec.path.split(' '), '--help'],
        [...spec.path.split(' '), '-h'],
        ['help', ...spec.path.split(' ')],
        // Help wins over bad or missing arguments: asking for it never fails.
        [...spec.path.split(' '), '--bogus', '--help'],
      ]) {
        const result = await workspace.run(...args);
        assert.equal(result.status, 0, args.join(' '));
        assert.equal(result.stderr, '');
        assert.ok(result.stdout.startsWith(`Usage: revocable ${spec.path}`), args.join(' '));
        for (const name of Object.keys(spec.options)) {
          assert.ok(result.stdout.includes(`--${name}`), `${spec.path}: --${name}`);
        }
      }
    });
  }
});

describe('--version', () => {
  it("prints the version from revocable's package.json", async () => {
    const manifest = JSON.parse(
      readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    assert.deepEqual(await new Workspace().run('--version'), {
      status: 0,
      stdout: `${manifest.version}\n`,
      stderr: '',
    });
  });
});

describe('bad arguments: exit 2, one line on stderr, nothing on stdout', () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /missing command/],
    ['an unknown command', ['bogus'], /unknown command 'bogus'/],
    ['an unknown top-level option', ['--bogus'], /unknown option --bogus/],
    ['a group without its command', ['keys'], /missing keys command/],
    ['an unknown subcommand', ['token', 'forge'], /unknown command 'forge' for 'token'/],
    ['an unknown flag', ['keys', 'generate', '--bogus=1'], /unknown option --bogus;/],
    ['an unexpected argument', ['keys', 'generate', 'extra'], /too many arguments/],
    ['a flag given twice', ['keys', 'generate', '--kid', 'a', '--kid', 'b'], /--kid is given more/],
    ['a flag without its value', ['keys', 'generate', '--alg'], /--alg needs a value/],
    ['an unknown algorithm', ['keys', 'generate', '--alg', 'none'], /--alg must be one of/],
    ['a missing required flag', ['token', 'sign'], /missing --keys FILE/],
    ['a missing token', ['token', 'verify', '--keys', 'ring.json'], /missing TOKEN/],
    ['a missing --kid', ['keys', 'retire', '--keys', 'ring.json'], /missing --kid KID/],
    [
      'a bad --ttl',
      ['token', 'sign', '--keys', 'ring.json', '--ttl', 'soon'],
      /--ttl must be a duration/,
    ],
    [
      'bad --claims JSON',
      ['token', 'sign', '--keys', 'ring.json', '--claims', '{sub'],
      /--claims is not valid JSON/,
    ],
    [
      '--claims not an object',
      ['token', 'sign', '--keys', 'ring.json', '--claims', '[1]'],
      /--claims must be a JSON object/,
    ],
    [
      'a bad --now',
      ['token', 'verify', '--keys', 'ring.json', '--now', 'today', 'x.y.z'],
      /--now must be a time/,
    ],
    [
      'a bad --clock-tolerance',
      ['token', 'verify', '--keys', 'ring.json', '--clock-tolerance', 'soon', 'x.y.z'],
      /--clock-tolerance must be a duration/,
    ],
    [
      'a --clock-tolerance over 5 minutes',
      ['token', 'verify', '--keys', 'ring.json', '--clock-tolerance', '6m', 'x.y.z'],
      /ERR_INVALID_ARGUMENT: clockTolerance must be at most 300 seconds/,
    ],
    [
      'a missing key file',
      ['keys', 'jwks', '--keys', 'missing.json'],
      /cannot read key file missing\.json/,
    ],
    [
      'a key file that is not a ring',
      ['keys', 'jwks', '--keys', 'notes.json'],
      /ERR_KEYRING_INVALID: key file notes\.json/,
    ],
    [
      'an empty --iss',
      ['token', 'verify', '--keys', 'ring.json', '--iss=', 'x.y.z'],
      /--iss needs a value/,
    ],
    [
      'a value that looks like a flag',
      ['token', 'sign', '--keys', '--help=x'],
      /--keys needs a value \(write --keys=VALUE/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const workspace = new Workspace();
      await workspace.generate('ring.json');
      workspace.files.set('notes.json', '{"notes":[]}');
      const result = await workspace.run(...args);
      assert.equal(result.status, 2);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^revocable: [^\n]+\n$/);
      assert.match(result.stderr, message);
    });
  }

  it('never echoes a token typed where a command belongs', async () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2VjcmV0';
    for (const args of [[token], ['token', token], [`--${token}`]]) {
      const result = await new Workspace().run(...args);
      assert.equal(result.status, 2);
      assert.ok(!result.stderr.includes('eyJ'), result.stderr);
    }
  });
});
