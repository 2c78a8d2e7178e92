import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSigner, createVerifier, KeyRing } from '../../src/jwt/index.js';
import { createRevocableVerifier, createRevocationIndex } from '../../src/revocation/index.js';

const NOW = 1_800_000_000;
const now = () => NOW;
const ring = KeyRing.generate('HS256', { kid: 'k' });

// emitWarning is replaced, not listened to: a listener would not stop Node printing the warnings,
// and this suite is meant to run without any.
let emitted: ReturnType<typeof mock.method<typeof process, 'emitWarning'>>;
beforeEach(() => {
  emitted = mock.method(process, 'emitWarning', () => {});
});
afterEach(() => {
  emitted.mock.restore();
});

/** The code and type of every warning emitted so far, and its message. */
function warnings(): { code: unknown; type: unknown; message: string }[] {
  return emitted.mock.calls.map((call) => {
    const [message, options] = call.arguments as unknown as [
      string,
      { type: string; code: string },
    ];
    return { code: options.code, type: options.type, message };
  });
}

describe('a verifier made without audience or issuer', () => {
  it('warns once per missing option, when it is made, naming the option that silences it', () => {
    const verifier = createVerifier({ keys: ring, now });
    const seen = warnings();
    assert.deepEqual(
      seen.map(({ code, type }) => [code, type]),
      [
        ['REVOCABLE_ANY_AUDIENCE', 'RevocableWarning'],
        ['REVOCABLE_ANY_ISSUER', 'RevocableWarning'],
      ],
    );
    assert.match(seen[0]?.message ?? '', /^createVerifier was given no audience.*audience: null/);
    assert.match(seen[1]?.message ?? '', /^createVerifier was given no issuer.*issuer: null/);
    // Verifying adds none: the warning is about the verifier, not about each token.
    const token = createSigner({ keys: ring, now, issuer: 'i', audience: 'a' }).sign({ sub: 'u' });
    for (let i = 0; i < 3; i++) verifier.verify(token);
    assert.equal(warnings().length, 2);
  });

  it('warns about the one that is missing only', () => {
    createVerifier({ keys: ring, now, issuer: 'https://auth.example' });
    assert.deepEqual(
      warnings().map(({ code }) => code),
      ['REVOCABLE_ANY_AUDIENCE'],
    );
    emitted.mock.resetCalls();
    createVerifier({ keys: ring, now, audience: ['api', 'web'] });
    assert.deepEqual(
      warnings().map(({ code }) => code),
      ['REVOCABLE_ANY_ISSUER'],
    );
  });

  it('is silent with both set, or with null for "any, on purpose"', () => {
    createVerifier({ keys: ring, now, issuer: 'https://auth.example', audience: 'api' });
    createVerifier({ keys: ring, now, issuer: null, audience: null });
    createVerifier({ keys: ring, now, issuer: ['a', 'b'], audience: null });
    assert.deepEqual(warnings(), []);
  });

  it('null accepts any issuer and audience, as leaving them out does', () => {
    const token = createSigner({ keys: ring, now, issuer: 'x', audience: 'y' }).sign({ sub: 'u' });
    const verifier = createVerifier({ keys: ring, now, issuer: null, audience: null });
    assert.equal(verifier.verify(token).aud, 'y');
  });

  it('does not warn when the options are refused', () => {
    assert.throws(() => createVerifier({ keys: ring, now, typ: '' }), {
      code: 'ERR_INVALID_ARGUMENT',
    });
    assert.deepEqual(warnings(), []);
  });

  it('the revocable verifier warns once, in its own name', () => {
    const index = createRevocationIndex({ maxAccessTokenLifetime: '10m', now });
    createRevocableVerifier({ keys: ring, index });
    assert.deepEqual(
      warnings().map(({ code, message }) => [code, message.split(' ')[0]]),
      [
        ['REVOCABLE_ANY_AUDIENCE', 'createRevocableVerifier'],
        ['REVOCABLE_ANY_ISSUER', 'createRevocableVerifier'],
      ],
    );
    emitted.mock.resetCalls();
    createRevocableVerifier({ keys: ring, index, issuer: 'i', audience: null });
    assert.deepEqual(warnings(), []);
  });
});

describe('the warning as Node.js prints it', () => {
  it('carries its type and code, so --no-warnings and warning listeners can tell it apart', () => {
    const jwt = fileURLToPath(new URL('../../src/jwt/index.js', import.meta.url));
    const script =
      `const { createVerifier, KeyRing } = await import(${JSON.stringify(jwt)});` +
      `createVerifier({ keys: KeyRing.generate('HS256'), audience: 'api' });`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(
      run.stderr,
      /\[REVOCABLE_ANY_ISSUER\] RevocableWarning: createVerifier was given no issuer/,
    );
    assert.doesNotMatch(run.stderr, /REVOCABLE_ANY_AUDIENCE/);
  });
});
