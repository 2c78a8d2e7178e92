import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../../src/errors/index.js';
import { createRevocationIndex } from '../../../src/revocation/index.js';
import {
  createHttpRevocationSource,
  type HttpRevocationSourceOptions,
} from '../../../src/sync/index.js';

const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });

function refused(options: unknown, pattern: RegExp, secret?: string): void {
  assert.throws(
    () => createHttpRevocationSource(options as HttpRevocationSourceOptions),
    (error: unknown) => {
      assert.ok(isRevocableError(error, 'ERR_INVALID_ARGUMENT'), String(error));
      assert.match(error.message, pattern);
      if (secret !== undefined) assert.ok(!error.message.includes(secret), error.message);
      return true;
    },
  );
}

describe('the options of createHttpRevocationSource', () => {
  it('takes a base URL, with or without a path, and starts nothing until start()', async () => {
    for (const url of [
      'http://127.0.0.1:1',
      'http://localhost:3000/auth',
      'http://[::1]:3000',
      'http://0.0.0.0:3000',
      'https://auth.example/auth/',
      new URL('https://x'),
    ]) {
      const source = createHttpRevocationSource({ url, index });
      assert.equal(source.health().state, 'starting');
      assert.equal(source.health().transport, 'http');
      assert.equal(source.keys.keys().length, 0);
      await source.stop();
    }
  });

  it('refuses a URL it could not show in an error', () => {
    refused({ url: 'https://user:hunter2@auth.example', index }, /credentials/, 'hunter2');
    refused({ url: 'https://auth.example/?token=hunter2', index }, /query/, 'hunter2');
    refused({ url: 'https://auth.example/#x', index }, /fragment/);
    refused({ url: 'ftp://auth.example', index }, /http or https/);
    refused({ url: 'not a url hunter2', index }, /absolute/, 'hunter2');
    refused({ url: 42, index }, /url must be/);
  });

  it('takes plain http to another machine only with allowInsecureHttp', () => {
    for (const url of [
      'http://auth.example',
      'http://auth:3000',
      'http://10.0.0.5:3000',
      'http://[fd00::2]:3000',
      // Not loopback, whatever the names suggest.
      'http://127.0.0.1.example.com',
      'http://localhost.example.com',
      new URL('http://x'),
    ]) {
      refused({ url, index }, /plain http to .*not this machine.*allowInsecureHttp: true/);
      const source = createHttpRevocationSource({ url, index, allowInsecureHttp: true });
      assert.equal(source.health().state, 'starting');
    }
    // The parser writes 127.1 as 127.0.0.1: loopback.
    createHttpRevocationSource({ url: 'http://127.1:3000', index });
    refused({ url: 'https://auth.example', index, allowInsecureHttp: 'yes' }, /boolean/);
  });

  it('refuses an option it does not have', () => {
    refused(
      { url: 'https://auth.example', index, maxStalenes: 5 },
      /createHttpRevocationSource has no option "maxStalenes": did you mean "maxStaleness"/,
    );
  });

  it('refuses a bad index, ring, fetch, headers or duration', () => {
    const url = 'https://auth.example';
    refused(undefined, /needs options/);
    refused({ url }, /index must be/);
    refused({ url, index, keys: {} }, /keys must be/);
    refused({ url, index, fetch: 'fetch' }, /fetch must be/);
    refused({ url, index, onError: 1 }, /onError must be/);
    refused({ url, index, headers: { 'bad name': 'x' } }, /header name/);
    refused(
      { url, index, headers: { authorization: 'Bearer hunter2\r\nx: y' } },
      /authorization must be a string without line breaks/,
      'hunter2',
    );
    refused({ url, index, reconnectDelay: 0 }, /reconnectDelay must be longer than zero/);
    refused({ url, index, reconnectDelay: 2, maxReconnectDelay: 1 }, /maxReconnectDelay/);
    refused({ url, index, pollInterval: 2, heartbeatTimeout: 1 }, /heartbeatTimeout/);
    refused(
      { url, index, keyRefreshInterval: '5 minutes' },
      /keyRefreshInterval must be a duration/,
    );
    refused({ url, index, maxStaleness: -1 }, /maxStaleness/);
    refused({ url, index, droppedKeyGrace: -1 }, /droppedKeyGrace/);
    refused({ url, index, droppedKeyGrace: '30 s' }, /droppedKeyGrace must be a duration/);
    createHttpRevocationSource({ url, index, droppedKeyGrace: 0 });
    createHttpRevocationSource({ url, index, droppedKeyGrace: '2m' });
    refused({ url, index, maxMessageLength: 10 }, /maxMessageLength/);
  });
});
