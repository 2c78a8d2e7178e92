import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { type CliResult, NOW, parseJson, Workspace } from './harness.js';

function headerOf(token: string): Record<string, unknown> {
  return parseJson(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
}

// For the tests about other checks: any issuer and audience, on purpose, so no warning.
const ANY = ['--any-issuer', '--any-audience'];

// What an access token needs besides what the signer adds (iat, exp, jti).
const ACCESS = ['--claims', '{"sub":"u1"}', '--iss', 'https://auth.example', '--aud', 'api'];

// A refusal is one line of JSON on stdout with the code and the library's message, exit 1.
function assertRefused(result: CliResult, code: string): void {
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stderr, '');
  assert.match(result.stdout, /^\{[^\n]*\}\n$/);
  const printed = parseJson(result.stdout);
  assert.deepEqual(Object.keys(printed), ['error', 'message']);
  assert.equal(printed.error, code);
  assert.equal(typeof printed.message, 'string');
  assert.notEqual(printed.message, '');
}

describe('revocable token sign and verify', () => {
  for (const alg of ['EdDSA', 'ES256', 'HS256']) {
    it(`${alg}: generate, sign, verify round trip`, async () => {
      const workspace = new Workspace();
      await workspace.generate('ring.json', '--alg', alg, '--kid', 'k1');
      const token = await workspace.sign(
        'ring.json',
        '--claims',
        '{"sub":"u1","role":"admin"}',
        '--iss',
        'https://auth.example',
        '--aud',
        'api',
      );
      assert.deepEqual(headerOf(token), { alg, typ: 'at+jwt', kid: 'k1' });
      const result = await workspace.run(
        'token',
        'verify',
        '--keys',
        'ring.json',
        '--iss',
        'https://auth.example',
        '--aud',
        'api',
        token,
      );
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr, '');
      const claims = parseJson(result.stdout);
      assert.equal(claims.sub, 'u1');
      assert.equal(claims.role, 'admin');
      assert.equal(claims.iat, NOW);
      assert.equal(claims.exp, NOW + 600);
      assert.equal(typeof claims.jti, 'string');
    });
  }

  for (const alg of ['EdDSA', 'ES256']) {
    it(`${alg}: a token verifies against the printed JWKS`, async () => {
      const workspace = new Workspace();
      await workspace.generate('ring.json', '--alg', alg);
      workspace.files.set('jwks.json', await workspace.ok('keys', 'jwks', '--keys', 'ring.json'));
      const token = await workspace.sign('ring.json', ...ACCESS);
      const result = await workspace.run('token', 'verify', ...ANY, '--keys', 'jwks.json', token);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(parseJson(result.stdout).sub, 'u1');
    });
  }

  it('signs with --ttl, several --aud and a fixed --now', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const token = await workspace.sign(
      'ring.json',
      '--ttl',
      '1h',
      '--aud',
      'a',
      '--aud',
      'b',
      '--now',
      '1000',
    );
    const claims = parseJson(await workspace.ok('token', 'decode', token)).claims as Record<
      string,
      unknown
    >;
    assert.deepEqual([claims.iat, claims.exp, claims.aud], [1000, 4600, ['a', 'b']]);
  });

  it('refuses an expired token with ERR_JWT_EXPIRED, exit 1', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const token = await workspace.sign(
      'ring.json',
      ...ACCESS,
      '--ttl',
      '10m',
      '--now',
      String(NOW),
    );
    const later = String(NOW + 600);
    assertRefused(
      await workspace.run('token', 'verify', ...ANY, '--keys', 'ring.json', '--now', later, token),
      'ERR_JWT_EXPIRED',
    );
    workspace.now = NOW + 600;
    assertRefused(
      await workspace.run('token', 'verify', ...ANY, '--keys', 'ring.json', token),
      'ERR_JWT_EXPIRED',
    );
    const tolerant = await workspace.run(
      'token',
      'verify',
      ...ANY,
      '--keys',
      'ring.json',
      '--clock-tolerance',
      '30s',
      token,
    );
    assert.equal(tolerant.status, 0);
  });

  it('refuses the wrong audience and the wrong issuer', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const token = await workspace.sign(
      'ring.json',
      '--claims',
      '{"sub":"u1"}',
      '--iss',
      'me',
      '--aud',
      'api',
    );
    const verify = (...options: string[]) =>
      workspace.run('token', 'verify', '--keys', 'ring.json', ...options, token);
    assertRefused(await verify('--aud', 'other', '--any-issuer'), 'ERR_JWT_AUDIENCE');
    assertRefused(await verify('--iss', 'someone', '--any-audience'), 'ERR_JWT_ISSUER');
    assert.equal((await verify('--aud', 'other', '--aud', 'api', '--iss', 'me')).status, 0);
  });

  it('refuses a tampered token with ERR_JWT_SIGNATURE', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const [header, payload, signature] = (await workspace.sign('ring.json')).split('.');
    const claims = parseJson(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    assertRefused(
      await workspace.run(
        'token',
        'verify',
        ...ANY,
        '--keys',
        'ring.json',
        `${header}.${forged}.${signature}`,
      ),
      'ERR_JWT_SIGNATURE',
    );
  });

  it('demands typ at+jwt unless told otherwise; --typ any accepts every typ', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const token = await workspace.sign('ring.json', '--typ', 'refresh+jwt');
    const verify = (...options: string[]) =>
      workspace.run('token', 'verify', ...ANY, '--keys', 'ring.json', ...options, token);
    assertRefused(await verify(), 'ERR_JWT_TYP');
    assert.equal((await verify('--typ', 'refresh+jwt')).status, 0);
    assert.equal((await verify('--typ', 'any')).status, 0);
  });

  it('demands the RFC 9068 claims of an access token unless --require lists others', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const token = await workspace.sign('ring.json', '--claims', '{"sub":"u1"}');
    const verify = (...options: string[]) =>
      workspace.run('token', 'verify', ...ANY, '--keys', 'ring.json', ...options, token);
    assertRefused(await verify(), 'ERR_JWT_CLAIM_MISSING');
    assert.equal((await verify('--require', 'exp,sub, jti')).status, 0);
    assert.equal((await verify('--require', 'none')).status, 0);
    assertRefused(await verify('--require', 'exp,aud'), 'ERR_JWT_CLAIM_MISSING');
  });

  it('refuses garbage with ERR_JWT_MALFORMED, exit 1', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    assertRefused(
      await workspace.run('token', 'verify', ...ANY, '--keys', 'ring.json', 'not-a-token'),
      'ERR_JWT_MALFORMED',
    );
  });

  it('reads the token from stdin with -', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const token = await workspace.sign('ring.json', ...ACCESS);
    const result = await workspace.runWithStdin(
      `${token}\n`,
      'token',
      'verify',
      ...ANY,
      '--keys',
      'ring.json',
      '-',
    );
    assert.equal(result.status, 0);
    assert.equal(parseJson(result.stdout).sub, 'u1');
    const empty = await workspace.runWithStdin(
      '\n',
      'token',
      'verify',
      ...ANY,
      '--keys',
      'ring.json',
      '-',
    );
    assert.deepEqual(empty, { status: 2, stdout: '', stderr: 'revocable: no token on stdin\n' });
  });

  it('cannot sign with a public JWKS: says the file has no private key, exit 2', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    workspace.files.set('jwks.json', await workspace.ok('keys', 'jwks', '--keys', 'ring.json'));
    const result = await workspace.run('token', 'sign', '--keys', 'jwks.json');
    assert.deepEqual(result, {
      status: 2,
      stdout: '',
      stderr:
        'revocable: jwks.json holds no private key (a JWKS or public keys only), so it cannot ' +
        'sign: sign with the key ring that keys generate wrote, and give verifiers the JWKS\n',
    });
  });

  it('cannot sign once the active key is retired: says to rotate, exit 2', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--kid', 'k1');
    workspace.files.set(
      'ring.json',
      await workspace.ok('keys', 'retire', '--keys', 'ring.json', '--kid', 'k1'),
    );
    const result = await workspace.run('token', 'sign', '--keys', 'ring.json');
    assert.deepEqual(result, {
      status: 2,
      stdout: '',
      stderr:
        'revocable: ring.json has no active key (its keys are verify-only or retired), so it ' +
        'cannot sign: run revocable keys rotate --keys ring.json --out ring.json to add one\n',
    });
    // What it says to run works.
    await workspace.ok('keys', 'rotate', '--keys', 'ring.json', '--out', 'ring.json');
    assert.equal((await workspace.run('token', 'sign', '--keys', 'ring.json')).status, 0);
  });

  it('prints the message with the code, and never the token', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const token = await workspace.sign('ring.json', ...ACCESS, '--now', String(NOW - 600));
    const result = await workspace.run('token', 'verify', ...ANY, '--keys', 'ring.json', token);
    assert.deepEqual(parseJson(result.stdout), {
      error: 'ERR_JWT_EXPIRED',
      message: 'The token has expired.',
    });
    for (const segment of token.split('.')) assert.ok(!result.stdout.includes(segment));
  });

  it('refuses iat or exp in --claims rather than silently replacing them', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const result = await workspace.run(
      'token',
      'sign',
      '--keys',
      'ring.json',
      '--claims',
      '{"exp":1}',
    );
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^revocable: --claims must not hold iat or exp/);
  });
});

describe('token verify without --aud or --iss', () => {
  const AUD_WARNING =
    "revocable: warning: no --aud, so a token minted for any audience passes, another service's " +
    'included; pass --aud AUDIENCE, or --any-audience to accept every audience on purpose\n';
  const ISS_WARNING =
    'revocable: warning: no --iss, so a token from any issuer whose key is in the key file ' +
    'passes; pass --iss ISSUER, or --any-issuer to accept every issuer on purpose\n';

  async function setUp() {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const token = await workspace.sign('ring.json', ...ACCESS);
    const verify = (...options: string[]) =>
      workspace.run('token', 'verify', '--keys', 'ring.json', ...options, token);
    return verify;
  }

  it('warns on stderr, one line for each, and still verifies', async () => {
    const verify = await setUp();
    // The CLI's own lines replace the library's process warning, which would say it twice.
    const emitted = mock.method(process, 'emitWarning', () => {});
    try {
      const result = await verify();
      assert.equal(result.status, 0);
      assert.equal(parseJson(result.stdout).sub, 'u1');
      assert.equal(result.stderr, AUD_WARNING + ISS_WARNING);
      assert.equal(emitted.mock.callCount(), 0);
    } finally {
      emitted.mock.restore();
    }
  });

  it('warns on a refusal too, with the refusal alone on stdout', async () => {
    const verify = await setUp();
    const result = await verify('--now', String(NOW + 600));
    assert.equal(result.status, 1);
    assert.equal(parseJson(result.stdout).error, 'ERR_JWT_EXPIRED');
    assert.equal(result.stderr, AUD_WARNING + ISS_WARNING);
  });

  it('--any-audience and --any-issuer say it is meant, each silencing its own warning', async () => {
    const verify = await setUp();
    assert.equal((await verify('--any-audience')).stderr, ISS_WARNING);
    assert.equal((await verify('--any-issuer')).stderr, AUD_WARNING);
    assert.equal((await verify('--iss', 'https://auth.example', '--any-audience')).stderr, '');
    assert.equal((await verify('--aud', 'api', '--any-issuer')).stderr, '');
  });

  it('refuses --aud with --any-audience, and --iss with --any-issuer: exit 2', async () => {
    const verify = await setUp();
    assert.deepEqual(await verify('--aud', 'api', '--any-audience'), {
      status: 2,
      stdout: '',
      stderr: 'revocable: --aud and --any-audience contradict each other\n',
    });
    assert.deepEqual(await verify('--iss', 'x', '--any-issuer', '--any-audience'), {
      status: 2,
      stdout: '',
      stderr: 'revocable: --iss and --any-issuer contradict each other\n',
    });
  });

  it('names both flags in its help', async () => {
    const help = await new Workspace().ok('token', 'verify', '--help');
    assert.match(help, /--any-issuer +Accept any iss on purpose/);
    assert.match(help, /--any-audience +Accept any aud on purpose/);
  });
});

describe('key rotation and retirement, end to end', () => {
  it('after rotate, old tokens still verify and new tokens carry the new kid', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--kid', 'old');
    const before = await workspace.sign('ring.json', ...ACCESS);
    workspace.files.set(
      'ring.json',
      await workspace.ok('keys', 'rotate', '--keys', 'ring.json', '--kid', 'new'),
    );
    const after = await workspace.sign('ring.json', ...ACCESS);
    assert.equal(headerOf(before).kid, 'old');
    assert.equal(headerOf(after).kid, 'new');
    for (const token of [before, after]) {
      assert.equal(
        (await workspace.run('token', 'verify', ...ANY, '--keys', 'ring.json', token)).status,
        0,
      );
    }
  });

  it('after retire, tokens of that key fail with ERR_JWT_KEY_RETIRED', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--kid', 'old');
    const token = await workspace.sign('ring.json');
    workspace.files.set('ring.json', await workspace.ok('keys', 'rotate', '--keys', 'ring.json'));
    workspace.files.set(
      'ring.json',
      await workspace.ok('keys', 'retire', '--keys', 'ring.json', '--kid', 'old'),
    );
    assertRefused(
      await workspace.run('token', 'verify', ...ANY, '--keys', 'ring.json', token),
      'ERR_JWT_KEY_RETIRED',
    );
    // The published JWKS drops the retired key, so a resource server no longer knows it at all.
    workspace.files.set('jwks.json', await workspace.ok('keys', 'jwks', '--keys', 'ring.json'));
    assertRefused(
      await workspace.run('token', 'verify', ...ANY, '--keys', 'jwks.json', token),
      'ERR_JWT_KID_UNKNOWN',
    );
  });
});

describe('revocable token decode', () => {
  it('prints header and claims and says plainly that nothing was verified', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json', '--kid', 'k1');
    const token = await workspace.sign('ring.json', '--claims', '{"sub":"u1"}');
    const result = await workspace.run('token', 'decode', token);
    assert.equal(result.status, 0);
    const printed = parseJson(result.stdout);
    assert.equal(printed.verified, false);
    assert.equal(printed.warning, 'not verified: do not trust these claims');
    assert.deepEqual(printed.header, { alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' });
    assert.equal((printed.claims as Record<string, unknown>).sub, 'u1');
  });

  it('decodes a token whose signature is wrong, still saying it is not verified', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const token = `${(await workspace.sign('ring.json')).slice(0, -4)}AAAA`;
    const printed = parseJson(await workspace.ok('token', 'decode', token));
    assert.equal(printed.verified, false);
  });

  it('reads stdin with -, and refuses garbage with exit 1', async () => {
    const workspace = new Workspace();
    await workspace.generate('ring.json');
    const token = await workspace.sign('ring.json');
    assert.equal((await workspace.runWithStdin(token, 'token', 'decode', '-')).status, 0);
    assertRefused(await workspace.run('token', 'decode', 'a.b'), 'ERR_JWT_MALFORMED');
  });
});
