// A seeded fuzz of the auth server from outside: a few hundred bad requests against one server on
// SQLite. Every answer must be a typed 4xx (never a 5xx, never a hang, never a success where none
// is due) with the error body of the docs, and nothing may change: the victim's token and
// sessions, the revocation log, the key ring, the users. The seed is printed; set
// REVOCABLE_FUZZ_SEED to replay another (and REVOCABLE_FUZZ_CASES for a longer run).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { type FuzzCase, fuzzCases, mayAnswer200 } from './fuzz-cases.js';
import type { FuzzTargets } from './fuzz-tokens.js';
import { parseRawAnswer, type RawAnswer, rawExchange, rawRequest } from './raw-request.js';
import { call, removeDataDirs, type ServerProcess, startServerProcess } from './server-process.js';

const SEED = Number(process.env.REVOCABLE_FUZZ_SEED ?? 0x5eed2026);
const CASES = Number(process.env.REVOCABLE_FUZZ_CASES ?? 500);
const PARALLEL = 8;
const ADMIN = { username: 'root', password: 'admin password 1' };

/** What is wrong with an answer to a bad request, or null. */
function judge(request: FuzzCase, answer: RawAnswer): string | null {
  if (answer.stream) return `opened an event stream (${answer.status})`;
  if (answer.status === 200 && mayAnswer200(request)) return null;
  if (answer.status < 400 || answer.status >= 500) return `status ${answer.status}`;
  if (request.method === 'HEAD') return answer.text === '' ? null : 'a body on HEAD';
  if (!String(answer.headers['content-type'] ?? '').startsWith('application/json')) {
    return `content type ${answer.headers['content-type']}: ${answer.text.slice(0, 200)}`;
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `not JSON: ${answer.text.slice(0, 200)}`;
  }
  const record = body as Record<string, unknown>;
  const shaped =
    typeof body === 'object' &&
    body !== null &&
    Object.keys(record).sort().join() === 'error,message' &&
    typeof record.error === 'string' &&
    /^ERR_[A-Z0-9_]+$/.test(record.error) &&
    typeof record.message === 'string' &&
    record.message !== '';
  return shaped ? null : `not an error body: ${answer.text.slice(0, 200)}`;
}

/** The auth server's count of 4xx answers, from its /metrics. */
async function answered4xx(url: string): Promise<number> {
  const response = await fetch(`${url}/metrics`);
  const text = await response.text();
  const line = /^revocable_http_requests_total\{status_class="4xx"\} (\d+)$/m.exec(text);
  return line === null ? 0 : Number(line[1]);
}

function describeCase(index: number, request: FuzzCase): string {
  const body =
    request.body === undefined
      ? ''
      : ` body ${request.body.toString().slice(0, 80)} (${request.body.length} bytes)`;
  return `#${index} ${request.method} ${request.path.slice(0, 120)} [${request.note}]${body}`;
}

/** Every row of the tables the server writes, read from its database file. */
function databaseRows(dataDir: string): Record<string, unknown[]> {
  const database = new Database(join(dataDir, 'revocable.db'), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    const rows: Record<string, unknown[]> = {};
    for (const table of ['users', 'sessions', 'subjects', 'log', 'key_ring']) {
      rows[table] = database.prepare(`SELECT * FROM revocable_${table} ORDER BY rowid`).all();
    }
    return rows;
  } finally {
    database.close();
  }
}

describe('the auth server under a seeded fuzz of bad requests', () => {
  let server: ServerProcess;
  let url: string;
  let victim: { name: string; password: string; access: string; refresh: string };
  let targets: FuzzTargets;

  before(async () => {
    server = await startServerProcess({
      env: { REVOCABLE_ADMIN_USER: ADMIN.username, REVOCABLE_ADMIN_PASSWORD: ADMIN.password },
      args: ['--login-address-limit', '100000', '--login-account-limit', '1000'],
    });
    url = server.url;
    victim = {
      name: 'victim',
      password: randomBytes(18).toString('base64'),
      access: '',
      refresh: '',
    };
    const registered = await call(url, 'POST', '/auth/register', {
      json: { username: victim.name, password: victim.password },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const tokens = await call(url, 'POST', '/auth/login', {
      json: { username: victim.name, password: victim.password, device: 'phone' },
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    victim.access = tokens.body.access_token;
    victim.refresh = tokens.body.refresh_token;
    const admin = await call(url, 'POST', '/auth/login', { json: ADMIN });
    const adminMe = await call(url, 'GET', '/auth/me', { token: admin.body.access_token });
    const jwks = await call(url, 'GET', '/.well-known/jwks.json');
    targets = {
      victimSub: registered.body.id,
      victimSid: tokens.body.session_id,
      adminSub: adminMe.body.sub,
      victimToken: victim.access,
      kid: jwks.body.keys[0].kid,
      publicX: jwks.body.keys[0].x,
    };
  });

  after(async () => {
    await server?.stop();
    removeDataDirs();
  });

  /** What the fuzz must leave as it was. */
  async function observe() {
    const [me, sessions, revocations, jwks] = await Promise.all([
      call(url, 'GET', '/auth/me', { token: victim.access }),
      call(url, 'GET', '/auth/sessions', { token: victim.access }),
      call(url, 'GET', '/revocations'),
      call(url, 'GET', '/.well-known/jwks.json'),
    ]);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(sessions.status, 200, JSON.stringify(sessions.body));
    return {
      me: me.body,
      sessions: sessions.body,
      revocations: revocations.body,
      jwks: jwks.body,
      rows: databaseRows(server.dataDir),
    };
  }

  it(`answers every bad request with a typed 4xx and changes nothing (seed ${SEED})`, async (t) => {
    t.diagnostic(`fuzz seed ${SEED} (REVOCABLE_FUZZ_SEED replays another), ${CASES} requests`);
    const state = await observe();
    assert.equal((state.rows.users ?? []).length, 2, 'the admin and the victim');
    const cases = fuzzCases(SEED, CASES, targets);
    const problems: string[] = [];
    const statuses = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < cases.length) {
          const index = next++;
          const request = cases[index] as FuzzCase;
          try {
            const answer = await rawRequest(url, request);
            const problem = judge(request, answer);
            if (problem !== null) problems.push(`${describeCase(index, request)}: ${problem}`);
            let code = String(answer.status);
            try {
              code += ` ${JSON.parse(answer.text).error ?? ''}`;
            } catch {
              // no JSON body (HEAD, or a 200 of a public route)
            }
            statuses.set(code, (statuses.get(code) ?? 0) + 1);
          } catch (error) {
            problems.push(`${describeCase(index, request)}: ${(error as Error).message}`);
          }
        }
      }),
    );
    t.diagnostic(
      [...statuses]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([code, count]) => `${code}: ${count}`)
        .join(', '),
    );
    assert.deepEqual(problems, [], `seed ${SEED}: ${problems.length} bad answers`);

    assert.deepEqual(await observe(), state, 'the fuzz changed nothing');
    // And everything still works: the admin logs in, the victim's session refreshes.
    const admin = await call(url, 'POST', '/auth/login', { json: ADMIN });
    assert.equal(admin.status, 200, JSON.stringify(admin.body));
    const refreshed = await call(url, 'POST', '/auth/refresh', {
      json: { refresh_token: victim.refresh },
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    victim.access = refreshed.body.access_token;
    victim.refresh = refreshed.body.refresh_token;
  });

  // What the fuzz found, one test each.

  it('refuses two Authorization headers, whichever comes first', async () => {
    // Node keeps the first of two Authorization headers and drops the other; a proxy in front may
    // have looked at the other one. RFC 6750 (3.1) calls a repeated credential invalid_request.
    for (const order of [
      [`Bearer ${victim.access}`, 'Bearer not.a.token'],
      ['Bearer not.a.token', `Bearer ${victim.access}`],
    ]) {
      const answer = await rawRequest(url, {
        method: 'GET',
        path: '/auth/me',
        headers: { authorization: order },
      });
      assert.equal(answer.status, 401, answer.text);
      assert.equal(JSON.parse(answer.text).error, 'ERR_AUTH_HEADER_INVALID', answer.text);
    }
  });

  it('answers HEAD /revocations/stream instead of holding it open', async () => {
    const answer = await rawRequest(url, { method: 'HEAD', path: '/revocations/stream' });
    assert.ok(answer.status >= 400 && answer.status < 500, `status ${answer.status}`);
  });

  it('answers a malformed percent-escape or an over-long path parameter with an error body', async () => {
    for (const [method, path] of [
      ['DELETE', '/auth/sessions/%ZZ'],
      ['POST', '/admin/users/%C0%AF/ban'],
      ['POST', '/admin/keys/%/retire'],
      ['DELETE', `/auth/sessions/${'x'.repeat(101)}`],
      ['GET', `/admin/users/${'u'.repeat(3000)}/sessions`],
    ] as const) {
      const request: FuzzCase = { method, path, note: 'path' };
      const answer = await rawRequest(url, request);
      assert.equal(judge(request, answer), null, `${method} ${path.slice(0, 40)}: ${answer.text}`);
      assert.equal(answer.status, 400, answer.text);
    }
  });

  it('closes a CONNECT connection after its answer, though the client keeps its side open', async () => {
    // Node hands a CONNECT socket over for good: no timeout or shutdown of the server reaches it.
    const { hostname, port } = new URL(url);
    // Half-open: the client never ends its side by itself, as a client that holds the tunnel.
    const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true });
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    const closed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
      // The answer is whole: bytes sent now meet a closed socket (a reset), unless the server
      // still holds its side open.
      socket.on('end', () => {
        setTimeout(() => socket.write('more bytes\r\n'), 100);
        setTimeout(() => socket.write('more bytes\r\n'), 1500);
      });
    });
    socket.write(`CONNECT ${hostname}:443 HTTP/1.1\r\nHost: ${hostname}:443\r\n\r\n`);
    const byServer = await closed;
    socket.destroy();
    assert.equal(parseRawAnswer(text).status, 404, text);
    assert.ok(byServer, 'the server kept the connection open');
  });

  it('answers what the HTTP parser refuses with an error body', async () => {
    const host = new URL(url).host;
    const requests = [
      `FOO /auth/me HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      Buffer.concat([
        Buffer.from('GET /admin/users/'),
        Buffer.from('\u00e9t\u00e9', 'utf8'),
        Buffer.from(`/sessions HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
      ]),
      `POST /auth/login HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
        'Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      `GET /auth/me HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      // Node answers these two itself, before Fastify: no answer at all, and a bare 417.
      `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `POST /auth/login HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
        'Expect: 999-foo\r\nContent-Length: 2\r\n\r\n{}',
    ];
    const problems: string[] = [];
    const before = await answered4xx(url);
    for (const bytes of requests) {
      const { status, body } = parseRawAnswer(await rawExchange(url, bytes));
      const shaped = /^\{"error":"ERR_[A-Z_]+","message":"[^"]+"\}$/.test(body);
      if (status < 400 || status >= 500 || !shaped) {
        problems.push(`${bytes.toString().slice(0, 30)}...: ${status} ${body}`);
      }
    }
    assert.deepEqual(problems, []);
    // Answered before Fastify has a request, so past its onResponse hook, and counted all the same.
    assert.equal((await answered4xx(url)) - before, requests.length);
  });

  it('names the port it listens on in its default issuer when started with --port 0', async () => {
    const claims = await call(url, 'GET', '/auth/me', { token: victim.access });
    assert.equal(claims.body.iss, `http://localhost:${new URL(url).port}`);
  });
});
