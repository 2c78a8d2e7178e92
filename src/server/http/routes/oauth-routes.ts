import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isRevocableError, RevocableError } from '../../../errors/revocable-error.js';
import type { JwtClaims } from '../../../jwt/types.js';
import { createVerifier } from '../../../jwt/verify.js';
import { hashRefreshToken, sameHash, sessionIdOf } from '../../../sessions/refresh-token.js';
import type { StoredSession } from '../../../stores/types.js';
import { bodyText } from '../body-text.js';
import type { RouteContext } from '../route-context.js';

// Other parameters are ignored, as RFC 6749 section 3.2 has an authorization server do with
// those it does not know: a public client sends its client_id with every request (RFC 7009
// section 2.1). They are bounded all the same.
// A token of any length or none is an invalid token, which both endpoints answer with success
// (RFC 7009, section 2.2; RFC 7662: active false), not a malformed request; the body limit bounds
// it. Other members are ignored whatever they hold, as other form parameters are.
const tokenBody = {
  type: 'object',
  required: ['token'],
  maxProperties: 16,
  properties: {
    token: { type: 'string' },
    token_type_hint: { type: 'string', maxLength: 64 },
  },
} as const;

interface TokenBody {
  token: string;
  token_type_hint?: string;
}

/** The roles that may call the introspection endpoint. */
export const INTROSPECTION_ROLES = ['admin', 'introspect'] as const;

// RFC 6749, appendix B: form bodies. A parameter given twice is an error (RFC 6749, section 3.1),
// never silently the first or the last.
function parseForm(text: string): Record<string, string> {
  const result: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(text)) {
    if (name in result) {
      throw new RevocableError(
        'ERR_HTTP_BODY_INVALID',
        `The parameter ${JSON.stringify(name.slice(0, 64))} is given more than once.`,
      );
    }
    result[name] = value;
  }
  return result;
}

function liveSession(session: StoredSession | null, at: number): session is StoredSession {
  return (
    session !== null &&
    session.revokedAt === null &&
    !session.banned &&
    at < session.idleExpiresAt &&
    at < session.absoluteExpiresAt
  );
}

/**
 * RFC 7009 token revocation and RFC 7662 introspection. Both take the token as form data (or
 * JSON). Revocation needs no other credential: holding a token is the right to end it, and the
 * answer is 200 whatever the token was, so it tells nothing. Introspection needs an access token
 * with the `admin` or `introspect` role, since it reveals whose a token is.
 */
export function oauthRoutes(app: FastifyInstance, context: RouteContext): void {
  const { runtime, auth } = context;
  const { sessions, config, backend } = runtime;
  // Signature and claims without the index, for a revocation made while the index is stale: that
  // must not block it.
  const signatureOnly = createVerifier({
    keys: runtime.keys.ring,
    issuer: config.issuer,
    audience: [...config.audience],
  });

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit: config.bodyLimit },
    (_request, body, done) => {
      try {
        done(null, parseForm(bodyText(body)));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );

  async function revokeRefresh(token: string, sid: string): Promise<void> {
    const session = await backend.store.getSession(sid);
    if (session === null || session.revokedAt !== null) return;
    const presented = hashRefreshToken(token);
    const known =
      sameHash(presented, session.refreshHash) ||
      sameHash(presented, session.previousHash) ||
      session.spentHashes.some((hash) => sameHash(presented, hash));
    // RFC 7009, section 2.1: revoking a refresh token also ends the access tokens of its grant:
    // the session's revocation does both.
    if (known) await sessions.logout(sid);
  }

  // RFC 7009, section 2.1, lets revoking an access token end its grant as well, and this server
  // does: revoking one of a session's access tokens ends the session. Revoking only the token
  // would let one account add an event per refresh (refresh, revoke the new token, again), each
  // copied to every process and follower for the token's lifetime; a session ends once, so every
  // further event costs a login. Whoever holds a live access token, with the fingerprint cookie
  // when the session is bound to one, can already end its session with /auth/logout.
  async function revokeAccess(token: string, request: FastifyRequest): Promise<void> {
    let claims: JwtClaims;
    try {
      claims = runtime.verifier.verify(token);
    } catch (error) {
      if (!isRevocableError(error)) throw error;
      // Invalid, or already revoked (by its session, a cut-off, a key...): nothing more to end. A
      // token cut off by a password change must not end the session that change kept. A stale
      // index cannot tell, so the revocation goes on: revoking too much beats reviving a token.
      // Staleness is the full verify's last check, so the signature and claims already held.
      if (error.code !== 'ERR_REVOCATION_STALE') return;
      claims = signatureOnly.verify(token);
    }
    // A token bound to a fingerprint cookie is revoked only with it: one seen without it (in a
    // log, at a resource server) must not end its owner's session.
    try {
      auth.checkFingerprint(request, claims);
    } catch (error) {
      if (isRevocableError(error)) return;
      throw error;
    }
    const { sid, jti, exp } = claims;
    if (typeof sid === 'string') {
      try {
        await sessions.logout(sid);
        return;
      } catch (error) {
        if (!isRevocableError(error) || error.code !== 'ERR_SESSION_UNKNOWN') throw error;
        // A session no longer stored cannot refresh: ending just the token cannot repeat.
      }
    }
    // Not a session's token (this server issues none such, but its keys may have signed one).
    if (typeof jti === 'string' && typeof exp === 'number') await sessions.revokeToken(jti, exp);
  }

  app.post<{ Body: TokenBody }>(
    '/oauth/revoke',
    { schema: { body: tokenBody } },
    async (request, reply) => {
      const { token } = request.body;
      const sid = sessionIdOf(token);
      if (sid !== null) await revokeRefresh(token, sid);
      else await revokeAccess(token, request);
      void reply.header('cache-control', 'no-store');
      return {};
    },
  );

  function introspectAccess(token: string): Record<string, unknown> {
    let claims: JwtClaims;
    try {
      claims = runtime.verifier.verify(token);
    } catch (error) {
      // A stale index cannot vouch for any token: that is the server's trouble, not an answer.
      if (isRevocableError(error) && error.code !== 'ERR_REVOCATION_STALE')
        return { active: false };
      throw error;
    }
    // The claims first: the answer's own members (RFC 7662, section 2.2) are the server's to say,
    // whatever the token carries under those names.
    return {
      ...claims,
      active: true,
      token_type: 'access_token',
      username: claims.preferred_username,
    };
  }

  async function introspectRefresh(token: string, sid: string): Promise<Record<string, unknown>> {
    const session = await backend.store.getSession(sid);
    const at = runtime.index.now();
    if (!liveSession(session, at) || !sameHash(hashRefreshToken(token), session.refreshHash)) {
      return { active: false };
    }
    return {
      active: true,
      token_type: 'refresh_token',
      sub: session.sub,
      sid: session.sid,
      iss: config.issuer,
      iat: session.lastSeenAt,
      exp: Math.min(session.idleExpiresAt, session.absoluteExpiresAt),
    };
  }

  // The caller is checked in onRequest, before the body is read: one without the role learns
  // only that (401 or 403), whatever it sent.
  async function introspector(request: FastifyRequest): Promise<void> {
    const caller = await auth.authenticate(request);
    if (!INTROSPECTION_ROLES.some((role) => caller.roles.includes(role))) {
      throw new RevocableError(
        'ERR_FORBIDDEN',
        'Introspection needs the role "admin" or "introspect".',
      );
    }
  }

  app.post<{ Body: TokenBody }>(
    '/oauth/introspect',
    { schema: { body: tokenBody }, onRequest: introspector },
    async (request: FastifyRequest<{ Body: TokenBody }>, reply) => {
      void reply.header('cache-control', 'no-store');
      const { token } = request.body;
      const sid = sessionIdOf(token);
      return sid !== null ? introspectRefresh(token, sid) : introspectAccess(token);
    },
  );
}
