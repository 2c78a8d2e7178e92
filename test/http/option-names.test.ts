import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { isRevocableError } from '../../src/errors/index.js';
import { revocableExpress } from '../../src/http/express/index.js';
import { revocablePlugin } from '../../src/http/fastify/index.js';
import { connectToAuthServer, createTokenGuard } from '../../src/http/index.js';
import { createRevocableVerifier, createVerifier, KeyRing } from '../../src/index.js';
import { assertKnownOptions } from '../../src/lib/known-options.js';
import { createRevocationIndex } from '../../src/revocation/index.js';
import { keyOptions, newWorld } from './support.js';

// A misspelt or misplaced option used to be dropped without a word. For these functions that is a
// hole: `audiance` left the audience unchecked, `roles` given to the guard left the route open.

function refusedWith(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isRevocableError(error, 'ERR_INVALID_ARGUMENT'), String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

describe('unknown options are refused, naming the nearest known one', () => {
  it('assertKnownOptions: names the nearest, or lists them; never echoes what is not a name', () => {
    const known = { audience: true, issuer: true };
    assertKnownOptions({ audience: 'a', issuer: 'i' }, known, 'f');
    refusedWith(() => assertKnownOptions({ audiance: 'a' }, known, 'f'), /"audiance".*"audience"/);
    refusedWith(() => assertKnownOptions({ colour: 1 }, known, 'f'), /takes audience, issuer/);
    // A pasted secret in a key's place is not repeated in the message.
    const secret = 'c2VjcmV0IHZhbHVlIHRoYXQgbXVzdCBub3QgbGVhaw==';
    assert.throws(
      () => assertKnownOptions({ [secret]: true }, known, 'f'),
      (error: unknown) => isRevocableError(error) && !error.message.includes(secret),
    );
    // Inherited members are no options of the object; own ones like "constructor" are unknown.
    assertKnownOptions(Object.create({ audiance: 'a' }) as object, known, 'f');
    refusedWith(() => assertKnownOptions({ constructor: 1 }, known, 'f'), /"constructor"/);
  });

  it('createVerifier and createRevocableVerifier', () => {
    const keys = KeyRing.generate('EdDSA');
    const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
    try {
      refusedWith(
        () => createVerifier({ keys, issuer: 'i', audiance: 'api' } as never),
        /createVerifier has no option "audiance": did you mean "audience"/,
      );
      refusedWith(
        () => createRevocableVerifier({ keys, index, audience: 'a', maxStalenes: 5 } as never),
        /createRevocableVerifier has no option "maxStalenes": did you mean "maxStaleness"/,
      );
      createRevocableVerifier({ keys, index, issuer: 'i', audience: 'a', maxStaleness: 5 });
    } finally {
      index.close();
    }
  });

  it('createRevocationIndex', () => {
    refusedWith(
      () => createRevocationIndex({ maxAccessTokenLifetime: '10m', clockSkw: 5 } as never),
      /createRevocationIndex has no option "clockSkw": did you mean "clockSkew"/,
    );
  });

  it('createTokenGuard: a route requirement given to the guard says where it goes', () => {
    const world = newWorld();
    for (const name of ['roles', 'scopes', 'maxAge', 'checkStore']) {
      refusedWith(
        () => createTokenGuard({ ...keyOptions(world), [name]: ['admin'] } as never),
        new RegExp(`${name} is a route requirement.*authenticate\\(\\)`),
      );
    }
    refusedWith(
      () => createTokenGuard({ ...keyOptions(world), onstale: 'check-store' } as never),
      /createTokenGuard has no option "onstale": did you mean "onStale"/,
    );
  });

  it('createTokenGuard: with a verifier of your own, the options of one it would make are refused', () => {
    const world = newWorld();
    const verifier = createRevocableVerifier({ ...keyOptions(world) });
    refusedWith(
      () => createTokenGuard({ verifier, audience: 'api' } as never),
      /createTokenGuard has no option "audience"/,
    );
    refusedWith(
      () => createTokenGuard({ ...keyOptions(world), staleVerifier: verifier } as never),
      /staleVerifier goes with a verifier of your own/,
    );
    createTokenGuard({ verifier });
  });

  it('revocableExpress and the Fastify plugin, which pass guard options through', async () => {
    const world = newWorld();
    refusedWith(
      () => revocableExpress({ ...keyOptions(world), roles: ['admin'] } as never),
      /roles is a route requirement/,
    );
    const app = Fastify();
    try {
      await assert.rejects(
        async () => {
          await app.register(revocablePlugin, { ...keyOptions(world), audiance: 'x' } as never);
          await app.ready();
        },
        (error: unknown) =>
          isRevocableError(error, 'ERR_INVALID_ARGUMENT') && /"audiance"/.test(error.message),
      );
    } finally {
      await app.close();
    }
  });

  it('connectToAuthServer refuses before it connects', async () => {
    // Nothing listens on port 9 here: had it tried to connect, the error would be another one.
    await assert.rejects(
      connectToAuthServer({
        url: 'http://127.0.0.1:9',
        issuer: 'i',
        audience: 'a',
        maxStalenes: 5,
      } as never),
      (error: unknown) =>
        isRevocableError(error, 'ERR_INVALID_ARGUMENT') && /"maxStaleness"/.test(error.message),
    );
  });

  it('connectToAuthServer refuses a maxStaleness under two heartbeats of the feed, before it connects', async () => {
    for (const maxStaleness of [0.5, 1, '1s', 1.999]) {
      await assert.rejects(
        connectToAuthServer({
          url: 'http://127.0.0.1:9',
          issuer: 'i',
          audience: 'a',
          maxStaleness,
        }),
        (error: unknown) =>
          isRevocableError(error, 'ERR_INVALID_ARGUMENT') &&
          /at least 2 seconds/.test(error.message),
      );
    }
    // 2 passes the check and goes on to connect (nothing listens on port 9).
    await assert.rejects(
      connectToAuthServer({
        url: 'http://127.0.0.1:9',
        issuer: 'i',
        audience: 'a',
        maxStaleness: 2,
        onError: () => {},
      }),
      (error: unknown) => isRevocableError(error, 'ERR_SYNC_CONNECTION'),
    );
  });

  it('connectToAuthServer hands droppedKeyGrace to its source, which checks it before connecting', async () => {
    await assert.rejects(
      connectToAuthServer({
        url: 'http://127.0.0.1:9',
        issuer: 'i',
        audience: 'a',
        droppedKeyGrace: '30 s',
      }),
      (error: unknown) =>
        isRevocableError(error, 'ERR_INVALID_ARGUMENT') &&
        /droppedKeyGrace must be a duration/.test(error.message),
    );
  });

  it('connectToAuthServer takes plain http to another host only with allowInsecureHttp', async () => {
    // auth.invalid cannot resolve (RFC 6761): a connection attempt would fail otherwise.
    const options = { url: 'http://auth.invalid', issuer: 'i', audience: 'a' };
    await assert.rejects(
      connectToAuthServer(options),
      (error: unknown) =>
        isRevocableError(error, 'ERR_INVALID_ARGUMENT') &&
        /plain http to auth\.invalid/.test(error.message),
    );
    // Allowed, it gets as far as connecting (and fails there, the name being unresolvable).
    await assert.rejects(
      connectToAuthServer({ ...options, allowInsecureHttp: true, onError: () => {} }),
      (error: unknown) => isRevocableError(error, 'ERR_SYNC_CONNECTION'),
    );
  });
});
