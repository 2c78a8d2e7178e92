import type { RouteOptions } from 'fastify';

interface RouteDoc {
  readonly summary: string;
  readonly tags: readonly string[];
  /** Whether the route takes an access token (bearer or the cookie of cookie mode). */
  readonly secured?: boolean;
}

/**
 * The OpenAPI summary of every route, in one table beside the routes rather than inside each
 * handler's options: `GET /openapi.json` then documents every route the same way, and a route
 * missing here is caught by the test that reads the document.
 */
export const ROUTE_DOCS: Readonly<Record<string, RouteDoc>> = {
  'POST /auth/register': { summary: 'Create an account', tags: ['auth'] },
  'POST /auth/login': {
    summary: 'Log in: a token pair (or the cookies of cookie mode)',
    tags: ['auth'],
  },
  'POST /auth/refresh': { summary: 'Spend a refresh token for the next pair', tags: ['auth'] },
  'POST /auth/logout': { summary: 'End this session', tags: ['auth'], secured: true },
  'POST /auth/logout-all': {
    summary: 'End every session of the user',
    tags: ['auth'],
    secured: true,
  },
  'GET /auth/sessions': { summary: "The user's live sessions", tags: ['auth'], secured: true },
  'DELETE /auth/sessions/:sid': {
    summary: 'End one of your sessions',
    tags: ['auth'],
    secured: true,
  },
  'POST /auth/password': {
    summary: 'Change the password; the other sessions end',
    tags: ['auth'],
    secured: true,
  },
  'GET /auth/me': {
    summary: 'The verified claims of the access token',
    tags: ['auth'],
    secured: true,
  },
  'POST /admin/users/:sub/ban': {
    summary: 'Ban a user: every session and token ends',
    tags: ['admin'],
    secured: true,
  },
  'POST /admin/users/:sub/unban': { summary: 'Lift a ban', tags: ['admin'], secured: true },
  'POST /admin/users/:sub/logout-all': {
    summary: 'End every session of a user',
    tags: ['admin'],
    secured: true,
  },
  'PUT /admin/users/:sub/roles': {
    summary: "Replace a user's roles: every session and token of the user ends",
    tags: ['admin'],
    secured: true,
  },
  'GET /admin/users/:sub/sessions': {
    summary: "A user's live sessions",
    tags: ['admin'],
    secured: true,
  },
  'POST /admin/revoke-all': {
    summary: 'The emergency: end every session and token of every user',
    tags: ['admin'],
    secured: true,
  },
  'POST /admin/keys/rotate': { summary: 'A new signing key', tags: ['admin'], secured: true },
  'POST /admin/keys/:kid/retire': {
    summary: 'Retire a key: every token it signed is refused',
    tags: ['admin'],
    secured: true,
  },
  'POST /oauth/revoke': { summary: 'RFC 7009 token revocation', tags: ['oauth'] },
  'POST /oauth/introspect': {
    summary: 'RFC 7662 token introspection (role admin or introspect)',
    tags: ['oauth'],
    secured: true,
  },
  'GET /.well-known/jwks.json': { summary: 'The public keys (JWKS)', tags: ['service'] },
  'GET /healthz': { summary: 'Health, with the state of the revocation sync', tags: ['service'] },
  'GET /metrics': { summary: 'Prometheus metrics', tags: ['service'] },
  'GET /revocations': {
    summary: 'Every live revocation event and the log position',
    tags: ['feed'],
  },
  'GET /revocations/stream': {
    summary: 'Server-sent events of the revocation log, resumable with Last-Event-ID',
    tags: ['feed'],
  },
};

/** Adds a route's summary, tags and security to its schema (an `onRoute` hook). */
export function documentRoute(route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const doc = ROUTE_DOCS[`${methods[0]} ${route.url}`];
  if (doc === undefined) return;
  route.schema = {
    ...route.schema,
    summary: doc.summary,
    tags: [...doc.tags],
    ...(doc.secured === true ? { security: [{ bearer: [] }] } : {}),
  };
}
