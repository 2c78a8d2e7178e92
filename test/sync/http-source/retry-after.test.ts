import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { KeyRing } from '../../../src/jwt/index.js';
import {
  MAX_RETRY_AFTER_MS,
  parseHttpDate,
  readRetryAfter,
} from '../../../src/sync/http-source/retry-after.js';
import {
  cleanUp,
  eventStream,
  heartbeat,
  json,
  scriptedServer,
  sourceFor,
  waitUntil,
} from './support.js';

afterEach(cleanUp);

// Timers fire no sooner than asked, and each gap is measured from the refused request's arrival,
// before the answer is even sent: a little under the wait leaves room for clock granularity only.
const SLACK_MS = 100;

type Serve = (request: IncomingMessage, response: ServerResponse, n: number) => void;

interface Script {
  stream: Serve;
  /** Default: an empty snapshot at 0. */
  snapshot?: Serve;
  /** Default: the server's ring. */
  jwks?: Serve;
}

/** When each request to a path arrived (performance.now()), in order. */
type Arrivals = Record<'stream' | 'snapshot' | 'jwks', number[]>;

/** A scripted auth server that records when each request arrives. */
async function timedServer(script: Script) {
  const ring = KeyRing.generate('EdDSA');
  const at: Arrivals = { stream: [], snapshot: [], jwks: [] };
  const server = await scriptedServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const route = (times: number[], serve: Serve) => {
      times.push(performance.now());
      serve(request, response, times.length - 1);
    };
    if (path === '/revocations/stream') route(at.stream, script.stream);
    else if (path === '/revocations') {
      route(at.snapshot, script.snapshot ?? ((_q, r) => json(r, { position: 0, events: [] })));
    } else if (path === '/.well-known/jwks.json') {
      route(at.jwks, script.jwks ?? ((_q, r) => json(r, ring.jwks())));
    } else json(response, { error: 'ERR_HTTP_NOT_FOUND', message: 'Not found.' }, 404);
  });
  return { ...server, at };
}

/** The stream limit's refusal, as the auth server sends it (plus `headers`). */
function refuse(
  response: ServerResponse,
  headers: Record<string, string>,
  status = 503,
  code = 'ERR_STREAM_LIMIT',
): void {
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  json(response, { error: code, message: 'Too many streams.' }, status);
}

/** A stream that is open and has said the index is fresh. */
function fresh(response: ServerResponse): void {
  eventStream(response);
  response.write(heartbeat(0));
}

function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((time, i) => time - times[i]!);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

describe('Retry-After, read', () => {
  const now = Date.UTC(2030, 0, 1, 12, 0, 0);

  it('takes delta-seconds, digits only, up to a day', () => {
    assert.equal(readRetryAfter('5', null, now), 5000);
    assert.equal(readRetryAfter(' 007 ', null, now), 7000);
    assert.equal(readRetryAfter('0', null, now), 0);
    assert.equal(readRetryAfter('86400', null, now), MAX_RETRY_AFTER_MS);
    assert.equal(readRetryAfter(null, null, now), 'absent');
    for (const value of [
      '',
      '-5',
      '+5',
      '1.5',
      '1e3',
      '5 s',
      '5, 5',
      '0x10',
      'soon',
      '86401',
      '99999999999999999999',
      '9'.repeat(400),
    ]) {
      assert.equal(readRetryAfter(value, null, now), 'invalid', value);
    }
  });

  it('takes the three HTTP-date forms, and nothing like them', () => {
    const at = Date.UTC(1994, 10, 6, 8, 49, 37);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', now), at);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', now), at);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994', now), at);
    // A two-digit year more than 50 years ahead is the century before.
    assert.equal(parseHttpDate('Monday, 01-Jan-35 00:00:00 GMT', now), Date.UTC(2035, 0, 1));
    assert.equal(parseHttpDate('Friday, 01-Jan-99 00:00:00 GMT', now), Date.UTC(1999, 0, 1));
    assert.equal(parseHttpDate('Thu, 29 Feb 2024 00:00:00 GMT', now), Date.UTC(2024, 1, 29));
    assert.equal(
      parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT', now),
      Date.UTC(2016, 11, 31, 23, 59, 60),
    );
    for (const value of [
      'Sun, 6 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'Sun, 06 Nov 1994 08:49:37 +0000',
      'sun, 06 nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 24:00:00 GMT',
      'Sun, 06 Nov 1994 08:60:00 GMT',
      'Wed, 31 Feb 2030 08:00:00 GMT',
      'Sat, 29 Feb 2025 00:00:00 GMT',
      '2030-01-01T12:00:05Z',
      '1',
      'Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT',
    ]) {
      assert.equal(parseHttpDate(value, now), null, value);
    }
  });

  it('measures a date against the answer’s Date, else the local clock; past is at once', () => {
    const date = (ms: number) => new Date(ms).toUTCString();
    assert.equal(readRetryAfter(date(now + 3000), null, now), 3000);
    // A server an hour behind: its two stamps, not this clock.
    const behind = now - 3600_000;
    assert.equal(readRetryAfter(date(behind + 2000), date(behind), now), 2000);
    // A Date that is not a date: the local clock.
    assert.equal(readRetryAfter(date(now + 3000), 'yesterday', now), 3000);
    assert.equal(readRetryAfter(date(now - 3000), null, now), 0);
    assert.equal(readRetryAfter(date(now + MAX_RETRY_AFTER_MS + 1000), null, now), 'invalid');
    assert.equal(readRetryAfter('Wed, 31 Feb 2030 08:00:00 GMT', null, now), 'invalid');
  });
});

describe('an HTTP revocation source refused with Retry-After', () => {
  it('waits as long as the stream refusal asks before asking again, and says so', async () => {
    const server = await timedServer({
      stream(_q, response, n) {
        if (n === 0) refuse(response, { 'retry-after': '2' });
        else fresh(response);
      },
    });
    // Its own back-off alone would be back in 50 ms.
    const { source, errors } = sourceFor(server.url, {
      reconnectDelay: 0.05,
      maxReconnectDelay: 5,
    });
    await source.start();
    const [gap] = gaps(server.at.stream);
    assert.ok(gap! >= 2000 - SLACK_MS, `the second stream came ${gap} ms after the refusal`);
    const message =
      /^GET http:\/\/127\.0\.0\.1:\d+\/revocations\/stream answered HTTP 503 \(ERR_STREAM_LIMIT\); the server asked to retry after 2 s\.$/;
    assert.equal(errors.length, 1);
    assert.match(messageOf(errors[0]), message);
    assert.match(String(source.health().lastError), /the server asked to retry after 2 s\.$/);
  });

  it('reads an HTTP-date against the server’s own clock, and a 429', async () => {
    const server = await timedServer({
      stream(_q, response, n) {
        if (n === 0) {
          // A server whose clock is an hour behind: a local reading would find the date past.
          const behind = Date.now() - 3600_000;
          refuse(response, {
            date: new Date(behind).toUTCString(),
            'retry-after': new Date(behind + 2000).toUTCString(),
          });
        } else if (n === 1) {
          // No Date: the local clock. Whole seconds, so 2 to 3 s from now.
          response.sendDate = false;
          refuse(
            response,
            { 'retry-after': new Date(Date.now() + 3000).toUTCString() },
            429,
            'ERR_RATE_LIMITED',
          );
        } else fresh(response);
      },
    });
    const { source, errors } = sourceFor(server.url, {
      reconnectDelay: 0.05,
      maxReconnectDelay: 5,
    });
    await source.start();
    const [first, second] = gaps(server.at.stream);
    assert.ok(first! >= 2000 - SLACK_MS, `the second stream came ${first} ms after the refusal`);
    assert.ok(second! >= 2000 - SLACK_MS, `the third stream came ${second} ms after the 429`);
    assert.match(messageOf(errors[0]), /HTTP 503 .*; the server asked to retry after 2 s\.$/);
    assert.match(messageOf(errors[1]), /HTTP 429 .*; the server asked to retry after [23] s\.$/);
  });

  it('waits no longer than maxReconnectDelay, whatever the server asks', async () => {
    const server = await timedServer({
      stream(_q, response, n) {
        if (n === 0) refuse(response, { 'retry-after': '3600' });
        else fresh(response);
      },
    });
    const { source, errors } = sourceFor(server.url, {
      reconnectDelay: 0.05,
      maxReconnectDelay: 1,
    });
    // start() resolving at all shows the hour was not waited (startTimeout is 15 s).
    await source.start();
    const [gap] = gaps(server.at.stream);
    assert.ok(gap! >= 1000 - SLACK_MS, `the second stream came ${gap} ms after the refusal`);
    assert.ok(gap! < 10_000, `the second stream came ${gap} ms after the refusal`);
    assert.match(messageOf(errors[0]), /the server asked to retry after 3600 s\.$/);
  });

  it('ignores a Retry-After it cannot read, and never shows it', async () => {
    const garbage = [
      'soon',
      '-3',
      '1.5',
      '86401',
      '99999999999999999999',
      'Wed, 31 Feb 2035 08:00:00 GMT',
      `<script>${'x'.repeat(2000)}`,
    ];
    const server = await timedServer({
      stream(_q, response, n) {
        const value = garbage[n];
        if (value !== undefined) refuse(response, { 'retry-after': value });
        else fresh(response);
      },
    });
    // Waits of 10, 20, 40 ... 640 ms; a value taken for a wait would be capped at 10 s.
    const { source, errors } = sourceFor(server.url, {
      reconnectDelay: 0.01,
      maxReconnectDelay: 10,
    });
    await source.start();
    for (const gap of gaps(server.at.stream)) {
      assert.ok(gap < 4000, `a stream came ${gap} ms after a refusal`);
    }
    assert.equal(errors.length, garbage.length);
    for (const error of errors) {
      const message = messageOf(error);
      assert.match(message, /HTTP 503 \(ERR_STREAM_LIMIT\); its Retry-After was not understood/);
      assert.ok(!/soon|script|xxx|99999|Feb|asked/.test(message), message);
    }
  });

  it('waits as asked before loading the snapshot again', async () => {
    const server = await timedServer({
      snapshot(_q, response, n) {
        if (n === 1) refuse(response, { 'retry-after': '2' }, 503, 'ERR_STORE_UNAVAILABLE');
        else json(response, { position: 0, events: [] });
      },
      stream(_q, response, n) {
        eventStream(response);
        // A heartbeat (start() resolves), then a reset: the snapshot is loaded again.
        if (n === 0) response.end(`${heartbeat(0)}id:\nevent: reset\ndata: {"position":0}\n\n`);
        else response.write(heartbeat(0));
      },
    });
    const { source, errors } = sourceFor(server.url, {
      reconnectDelay: 0.05,
      maxReconnectDelay: 5,
    });
    await source.start();
    await waitUntil('the snapshot is loaded again', () => server.at.snapshot.length >= 3);
    const gap = server.at.snapshot[2]! - server.at.snapshot[1]!;
    assert.ok(gap >= 2000 - SLACK_MS, `the snapshot was asked again ${gap} ms after the refusal`);
    assert.match(messageOf(errors[0]), /\/revocations answered HTTP 503 .*retry after 2 s\.$/);
  });

  it('asks for the JWKS no sooner than a refusal asks', async () => {
    const server = await timedServer({
      jwks(_q, response, n) {
        if (n === 1) refuse(response, { 'retry-after': '2' }, 429, 'ERR_RATE_LIMITED');
        else json(response, KeyRing.generate('EdDSA').jwks());
      },
      stream: (_q, response) => fresh(response),
    });
    const { source } = sourceFor(server.url, { reconnectDelay: 0.05, maxReconnectDelay: 5 });
    await source.start();
    await assert.rejects(source.refreshKeys(), /HTTP 429 .*retry after 2 s\.$/);
    // Its own limit alone would let this one start a second after the last.
    assert.equal(await source.refreshKeys(), true);
    const gap = server.at.jwks[2]! - server.at.jwks[1]!;
    assert.ok(gap >= 2000 - SLACK_MS, `the JWKS was asked again ${gap} ms after the refusal`);
  });
});
