// The bad requests of the fuzz test, drawn from a seeded generator: methods and paths (the
// server's routes and others), path parameters with odd characters, bodies that are malformed,
// oversized, of the wrong type or with unknown fields, wrong content types, and headers that a
// careless or hostile client sends (Authorization without a scheme, with two tokens, huge or not
// ASCII, tokens with a forged alg or kid, an expired-looking token), bad Last-Event-IDs.
//
// Nothing drawn here can succeed at changing anything: every token is forged (never one the
// server signed), every refresh token made up, and a registration that could be valid is broken
// before it is sent. The test checks that the server agrees.
import {
  B64URL,
  Draw,
  type FuzzTargets,
  forgedToken,
  madeUpRefreshToken,
  seededRandom,
} from './fuzz-tokens.js';
import type { RawRequest } from './raw-request.js';

/** A fuzz request, with a short description for the failure message. */
export interface FuzzCase extends RawRequest {
  readonly note: string;
}

const PUBLIC_GETS = [
  '/.well-known/jwks.json',
  '/healthz',
  '/metrics',
  '/openapi.json',
  '/revocations',
];

/**
 * Whether a 200 is a right answer to this request whatever it carries: the public GET routes, and
 * RFC 7009 revocation, which answers 200 to anything well-formed.
 */
export function mayAnswer200(request: RawRequest): boolean {
  const path = request.path.split('?')[0] ?? '';
  if ((request.method === 'GET' || request.method === 'HEAD') && PUBLIC_GETS.includes(path)) {
    return true;
  }
  return request.method === 'POST' && path === '/oauth/revoke';
}

// Each route with its method: most requests use it, so that they reach the route's checks.
const ROUTES: readonly (readonly [string, string])[] = [
  ['POST', '/auth/register'],
  ['POST', '/auth/login'],
  ['POST', '/auth/refresh'],
  ['POST', '/auth/logout'],
  ['POST', '/auth/logout-all'],
  ['GET', '/auth/sessions'],
  ['DELETE', '/auth/sessions/:sid'],
  ['POST', '/auth/password'],
  ['GET', '/auth/me'],
  ['POST', '/admin/users/:sub/ban'],
  ['POST', '/admin/users/:sub/unban'],
  ['POST', '/admin/users/:sub/logout-all'],
  ['GET', '/admin/users/:sub/sessions'],
  ['PUT', '/admin/users/:sub/roles'],
  ['POST', '/admin/revoke-all'],
  ['POST', '/admin/keys/rotate'],
  ['POST', '/admin/keys/:kid/retire'],
  ['POST', '/oauth/revoke'],
  ['POST', '/oauth/introspect'],
  ['GET', '/revocations/stream'],
  ...PUBLIC_GETS.map((path) => ['GET', path] as const),
];

const METHODS = ['POST', 'GET', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND'];

const UNKNOWN = [
  '/',
  '/auth',
  '/auth/',
  '/admin',
  '/admin/users',
  '/admin/users//ban',
  '/auth/login/',
  '/AUTH/LOGIN',
  '//auth/login',
  '/auth/./login',
  '/auth/../admin/revoke-all',
  '/.well-known/',
  '/.well-known/openid-configuration',
  '/favicon.ico',
  '/auth/me;jsessionid=1',
  '/auth/me%00',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/revocations/',
  '/revocations/stream/x',
  '/oauth/token',
];

// Odd values of a path parameter. Over-long (past Fastify's maxParamLength, 100) and malformed
// percent-escapes are among them. Bytes that are not ASCII are not: Node's HTTP parser refuses
// them before the server sees the request (see the test of what the parser refuses).
function oddParameter(d: Draw, t: FuzzTargets): string {
  return d.pick([
    t.victimSid,
    t.victimSub,
    t.adminSub,
    t.kid,
    '.',
    '..',
    '%2e%2e',
    '%2F',
    'a%2Fb',
    '%00',
    '%0d%0aSet-Cookie:%20x=1',
    '%E2%80%AE',
    '%C0%AF',
    '%F0%9F%92%A9',
    '%ZZ',
    '%',
    'x'.repeat(100),
    'x'.repeat(d.between(101, 3000)),
    '__proto__',
    'constructor',
    "'%3B%20DROP%20TABLE%20revocable_users%3B%20--",
    '%3Cscript%3E',
    `${t.victimSid}%00`,
    '*',
    `${t.victimSub},${t.adminSub}`,
  ]);
}

function oddQuery(d: Draw, token: string): string {
  return d.pick([
    '',
    '',
    '',
    '?a=1',
    '?a=1&a=2',
    '?__proto__[admin]=1',
    `?access_token=${token}`,
    `?token=${token}`,
    '?%ZZ=1',
    `?q=${'q'.repeat(d.between(100, 4000))}`,
    '?after=1',
  ]);
}

// Bad positions for the revocation stream (never one it would stream from: that is no error).
const BAD_POSITIONS = [
  '-1',
  'abc',
  '1.5',
  '1e3',
  '0x10',
  '9'.repeat(30),
  '',
  '\u0661',
  '1,2',
  'NaN',
];
// A header value is Latin-1 at most.
const BAD_HEADER_POSITIONS = BAD_POSITIONS.filter((value) => /^[\x20-\xff]*$/.test(value));

function requestLine(d: Draw, t: FuzzTargets, token: string): { method: string; path: string } {
  if (d.chance(0.15))
    return { method: d.pick(METHODS), path: d.pick(UNKNOWN) + oddQuery(d, token) };
  const [method, route] = d.pick(ROUTES);
  const path = route
    .replace(':sid', () => oddParameter(d, t))
    .replace(':sub', () => oddParameter(d, t))
    .replace(':kid', () => oddParameter(d, t));
  return {
    method: d.chance(0.75) ? method : d.pick(METHODS),
    path: path + (route === '/revocations/stream' ? '' : oddQuery(d, token)),
  };
}

function oddString(d: Draw, t: FuzzTargets): unknown {
  return d.pick<() => unknown>([
    () => '',
    () => ' ',
    () => 'a',
    () => d.word(d.between(257, 2000)),
    () => '\u0000\u0007\u001b[31m',
    () => '\ud800',
    () => '\u{1F4A9}'.repeat(d.between(1, 300)),
    () => "' OR 1=1 --",
    () => `\${jndi:ldap://127.0.0.1:1/a}`,
    () => '../../etc/passwd',
    () => t.victimSub,
    () => 'root',
    () => forgedToken(d, t).token,
    () => madeUpRefreshToken(d, t),
  ])();
}

function oddValue(d: Draw, t: FuzzTargets, depth = 0): unknown {
  const kind = d.int(depth > 2 ? 6 : 9);
  switch (kind) {
    case 0:
    case 1:
    case 2:
      return oddString(d, t);
    case 3:
      return d.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1]);
    case 4:
      return d.pick([true, false, null]);
    case 5:
      return d.pick([[], {}]);
    case 6:
      return [oddValue(d, t, depth + 1), oddValue(d, t, depth + 1)];
    default:
      return { [d.pick(['a', 'username', '__proto__x', '$where'])]: oddValue(d, t, depth + 1) };
  }
}

const FIELDS = [
  'username',
  'password',
  'device',
  'mode',
  'refresh_token',
  'current_password',
  'new_password',
  'token',
  'token_type_hint',
];

/** A JSON object with some of the routes' fields (of odd values) and maybe unknown ones. */
function oddObject(d: Draw, t: FuzzTargets): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const count = d.int(4);
  for (let i = 0; i < count; i++) body[d.pick(FIELDS)] = oddValue(d, t);
  if (d.chance(0.3)) body[d.pick(['admin', 'roles', 'sub', 'extra', 'id'])] = oddValue(d, t);
  if (d.chance(0.2)) body.mode = d.pick(['cookie', 'bearer', 'COOKIE', 1]);
  return body;
}

function deep(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** A body and the content type it goes with (often not the right one). */
function bodyOf(d: Draw, t: FuzzTargets): { body?: string | Buffer; type?: string; how: string } {
  const json = 'application/json';
  const form = 'application/x-www-form-urlencoded';
  switch (d.int(16)) {
    case 0:
      return { how: 'no body' };
    case 1:
    case 2:
    case 3:
      return { body: JSON.stringify(oddObject(d, t)), type: json, how: 'odd JSON object' };
    case 4:
      return {
        body: JSON.stringify(oddValue(d, t)),
        type: json,
        how: 'a JSON value that is not an object',
      };
    case 5:
      return {
        body: d.pick([
          '{"username":',
          '{"username":"a",}',
          "{'username':'a'}",
          '{"token":NaN}',
          '{"a":1}//',
          '\ufeff{"token":"x"}',
          '{"__proto__":{"admin":true},"token":"x"}',
          '{"constructor":{"prototype":{"admin":true}},"token":"x"}',
          '{"token":"a","token":"b"}',
          '{"password":1e400}',
          'undefined',
          '[',
          '"',
        ]),
        type: json,
        how: 'malformed JSON',
      };
    case 6:
      return {
        body: Buffer.concat([
          Buffer.from('{"username":"'),
          randomBytesFrom(d, 40),
          Buffer.from('"}'),
        ]),
        type: json,
        how: 'JSON that is not UTF-8',
      };
    case 7:
      return {
        body: d.pick([
          deep(d.between(1000, 5000), '[', ']'),
          deep(d.between(500, 1500), '{"a":', '}'),
          `{"token":${deep(d.between(1000, 4000), '[', ']')}}`,
        ]),
        type: json,
        how: 'deeply nested JSON',
      };
    case 8:
      return {
        body: JSON.stringify({ token: 'x'.repeat(d.between(17_000, 60_000)) }),
        type: json,
        how: 'oversized JSON',
      };
    case 9: {
      const parts = [
        `token=${encodeURIComponent(forgedToken(d, t).token)}`,
        `token=${encodeURIComponent(madeUpRefreshToken(d, t))}`,
        'token=',
        'token=a&token=b',
        `token=${'t'.repeat(d.between(8193, 15_000))}`,
        'token_type_hint=refresh_token',
        'token_type_hint=',
        '%ZZ=1',
        '&&&',
        '=',
        'extra=1',
        '__proto__=1',
        `username=root&password=${encodeURIComponent('admin password 1')}`,
      ];
      const count = d.between(1, 3);
      const chosen: string[] = [];
      for (let i = 0; i < count; i++) chosen.push(d.pick(parts));
      return { body: chosen.join('&'), type: form, how: 'form' };
    }
    case 10:
      return { body: 'x'.repeat(d.between(17_000, 40_000)), type: form, how: 'oversized form' };
    case 11:
      return { body: '', type: json, how: 'empty JSON body' };
    default: {
      const type = d.pick([
        'text/plain',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'application/json; charset=utf-16',
        'application/jsonx',
        'application/json, text/plain',
        'a/b/c',
        ';',
        'application/x-www-form-urlencoded; charset=latin1',
      ]);
      return {
        body: d.chance(0.5) ? JSON.stringify(oddObject(d, t)) : '--x\r\n\r\n--x--',
        type,
        how: `content type ${type}`,
      };
    }
  }
}

function randomBytesFrom(d: Draw, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = 0x80 + d.int(0x80);
  return bytes;
}

function authorization(d: Draw, t: FuzzTargets, token: string): string | string[] | undefined {
  const other = forgedToken(d, t).token;
  return d.pick<() => string | string[] | undefined>([
    () => undefined,
    () => `Bearer ${token}`,
    () => `Bearer ${token}`,
    () => `Bearer ${token}`,
    () => `bearer ${token}`,
    () => `BEARER   ${token}`,
    () => token,
    () => 'Bearer',
    () => 'Bearer ',
    () => `Basic ${Buffer.from('root:admin password 1').toString('base64')}`,
    () => `Token ${token}`,
    () => `Bearer ${token} ${other}`,
    () => `Bearer ${token}, Bearer ${other}`,
    () => [`Bearer ${token}`, `Bearer ${other}`],
    () => `Bearer ${'A'.repeat(d.between(8200, 14_000))}`,
    () => `Bearer ${token}\u00e9`,
    () => `Bearer ${Buffer.from('jeton\u00e9\u{1F511}').toString('latin1')}`,
    () => `Bearer\t${token}`,
    () => `Bearer ${token}==`,
    () => `Bearer ${' '.repeat(d.between(1, 2000))}${token}`,
  ])();
}

// Room for what the case adds later (content type, length) under Node's 16 KiB request head.
const HEADER_BUDGET = 15_000;

function headerBytes(path: string, headers: Record<string, string | string[]>): number {
  let bytes = path.length + 64;
  for (const [name, value] of Object.entries(headers)) {
    for (const one of typeof value === 'string' ? [value] : value)
      bytes += name.length + one.length + 4;
  }
  return bytes;
}

/** The `n` cases of a seed. */
export function fuzzCases(seed: number, n: number, t: FuzzTargets): FuzzCase[] {
  const d = new Draw(seededRandom(seed));
  const cases: FuzzCase[] = [];
  for (let i = 0; i < n; i++) {
    const forged = forgedToken(d, t);
    const line = requestLine(d, t, forged.token);
    const method = line.method;
    let path = line.path;
    const headers: Record<string, string | string[]> = {};
    const notes = [`token: ${forged.how}`];
    const auth = authorization(d, t, forged.token);
    if (auth !== undefined) headers.authorization = auth;
    if (d.chance(0.2)) {
      headers.cookie = d.pick([
        `revocable-access=${forged.token}`,
        `revocable-refresh=${madeUpRefreshToken(d, t)}`,
        `revocable-access=${forged.token}; revocable-access=${forged.token}`,
        'revocable-csrf=x; a=b; ; =; revocable-access',
        `revocable-fgp=${d.word(43)}; revocable-access=${forged.token}`,
      ]);
      notes.push('cookie');
    }
    if (d.chance(0.15)) headers['x-csrf-token'] = d.pick(['', 'x', d.word(43, B64URL)]);
    if (d.chance(0.1)) {
      headers[d.pick(['x-forwarded-for', 'x-http-method-override', 'origin', 'accept-version'])] =
        d.pick(['DELETE', '1.0.0', 'http://evil.example', '127.0.0.1, 10.0.0.1', '\u00ff']);
    }
    if (headerBytes(path, headers) > HEADER_BUDGET) {
      // Past Node's 16 KiB of request head the parser refuses the request before the server
      // sees it (see the test of what the parser refuses): keep this one within the budget.
      path = path.split('?')[0] as string;
      delete headers.cookie;
      if (headerBytes(path, headers) > HEADER_BUDGET) headers.authorization = 'Bearer x.y.z';
      notes.push('trimmed');
    }
    if (path.startsWith('/revocations/stream')) {
      // Only bad positions: a good one opens a stream, which is no error.
      if (d.chance(0.5)) headers['last-event-id'] = d.pick(BAD_HEADER_POSITIONS);
      else path += `?after=${encodeURIComponent(d.pick(BAD_POSITIONS))}`;
      notes.push('bad position');
    } else if (d.chance(0.05)) {
      headers['last-event-id'] = d.pick(BAD_HEADER_POSITIONS);
    }
    const { body, type, how } = bodyOf(d, t);
    notes.push(how);
    if (type !== undefined && d.chance(0.95)) headers['content-type'] = type;
    const chunked = body !== undefined && d.chance(0.1);
    cases.push({
      method,
      path,
      headers,
      ...(body === undefined ? {} : { body: neverARegistration(path, body) }),
      chunked,
      note: notes.join(', '),
    });
  }
  return cases;
}

/**
 * A body that the server might read as a registration (an object with a string username and a
 * string password, as JSON, or as a form should a parser take it) gets a password no policy
 * accepts and a member no schema allows: the fuzz must not add users.
 */
function neverARegistration(path: string, body: string | Buffer): string | Buffer {
  if (!path.startsWith('/auth/register')) return body;
  const text = body.toString('utf8').replace(/^\ufeff/, '');
  const candidates: unknown[] = [Object.fromEntries(new URLSearchParams(text))];
  try {
    candidates.push(JSON.parse(text));
  } catch {
    // not JSON
  }
  const could = candidates.some((value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const record = value as Record<string, unknown>;
    return typeof record.username === 'string' && typeof record.password === 'string';
  });
  if (!could) return body;
  return JSON.stringify({ username: 'never-registered', password: 'short', extra: true });
}
