import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/errors/codes.js';
import { RevocableError } from '../../src/errors/revocable-error.js';
import { describeError } from '../../src/server/http/errors.js';
import { HTTP_STATUS } from '../../src/server/http/status.js';
import { StreamLimitError } from '../../src/server/http/stream-admission.js';

const docs = readFileSync(new URL('../../../docs/server.md', import.meta.url), 'utf8');

describe('the HTTP status of every error code', () => {
  it('docs/server.md lists every code with its status, in the order of src/errors/codes.ts', () => {
    const documented = [...docs.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| (\d{3}) \|$/gm)].map(
      (match) => [match[1], Number(match[2])],
    );
    assert.deepEqual(
      documented,
      Object.keys(ERROR_CODES).map((code) => [code, HTTP_STATUS[code as keyof typeof ERROR_CODES]]),
    );
  });

  it('every status is an error status', () => {
    for (const [code, status] of Object.entries(HTTP_STATUS)) {
      assert.ok(status >= 400 && status <= 599, code);
    }
  });

  it('an unknown error is a 500 that tells nothing of itself', () => {
    const answer = describeError(new Error('secret detail'));
    assert.equal(answer.status, 500);
    assert.equal(answer.body.error, 'ERR_SERVER_INTERNAL');
    assert.ok(!answer.body.message.includes('secret detail'));
  });

  it("a 5xx answer keeps the error's reason (a host, a schema) for the log, out of the body", () => {
    for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
      const error = new RevocableError(code, 'PostgreSQL failed: relation "billing.rv_x" (db-7)');
      const answer = describeError(error);
      if (answer.status >= 500) assert.ok(!answer.body.message.includes('db-7'), code);
      else assert.equal(answer.body.message, error.message, code);
    }
  });

  it("a stream limit's 503 keeps its message, written for the client; no other 5xx does", () => {
    const limit = describeError(new StreamLimitError('This server serves 3 streams, its limit.'));
    assert.equal(limit.status, 503);
    assert.equal(limit.body.message, 'This server serves 3 streams, its limit.');
    const other = describeError(new RevocableError('ERR_STREAM_LIMIT', 'db-7 is down'));
    assert.ok(!other.body.message.includes('db-7'));
  });

  it('a refused token gets an RFC 6750 challenge; a missing one a bare challenge', () => {
    const expired = describeError(new RevocableError('ERR_JWT_EXPIRED', 'expired'));
    assert.equal(expired.status, 401);
    assert.match(expired.challenge ?? '', /^Bearer .*error="invalid_token"/);
    const missing = describeError(new RevocableError('ERR_AUTH_REQUIRED', 'none'));
    assert.equal(missing.challenge, 'Bearer realm="revocable"');
    const forbidden = describeError(new RevocableError('ERR_FORBIDDEN', 'no'));
    assert.match(forbidden.challenge ?? '', /error="insufficient_scope"/);
    // RFC 9110: every 401 has a challenge; one not about a bearer token, the bare one.
    assert.equal(
      describeError(new RevocableError('ERR_LOGIN_FAILED', 'no')).challenge,
      'Bearer realm="revocable"',
    );
    for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
      const answer = describeError(new RevocableError(code, 'x'));
      if (answer.status === 401) assert.match(answer.challenge ?? '', /^Bearer realm=/, code);
      else if (code !== 'ERR_FORBIDDEN') assert.equal(answer.challenge, null, code);
    }
  });
});
