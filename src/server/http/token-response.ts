import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { TokenPair } from '../../sessions/types.js';
import { type CookieNames, setSessionCookies } from './cookies.js';
import type { Authenticator } from './request-auth.js';

/** How a client holds its tokens: in the answer's body, or in cookies the browser keeps. */
export type TokenMode = 'bearer' | 'cookie';

/** The body of a login or refresh answer. */
export type TokenBody =
  | {
      readonly access_token: string;
      readonly refresh_token: string;
      readonly token_type: 'Bearer';
      readonly expires_in: number;
      readonly session_id: string;
    }
  | {
      readonly token_type: 'cookie';
      readonly expires_in: number;
      readonly session_id: string;
      readonly csrf_token: string;
    };

/** What answering with tokens needs to know of the server. */
export interface TokenAnswerContext {
  readonly names: CookieNames;
  readonly secure: boolean;
  readonly refreshTtl: number;
  readonly auth: Authenticator;
}

/** A new fingerprint for a session and the claim that binds its tokens to it. */
export function newFingerprint(auth: Authenticator): { cookie: string; claim: string } {
  const cookie = randomBytes(32).toString('base64url');
  return { cookie, claim: auth.fingerprintHash(cookie) };
}

/**
 * Answers with a token pair. Token answers are never cached (RFC 6749, section 5.1). In cookie
 * mode the tokens go into HttpOnly cookies and never into the body, so no script of the page can
 * read them; the body carries the CSRF token the page must echo.
 */
export function sendTokens(
  reply: FastifyReply,
  pair: TokenPair,
  mode: TokenMode,
  context: TokenAnswerContext,
  fingerprint?: string,
): TokenBody {
  void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  if (mode === 'bearer') {
    if (fingerprint !== undefined) {
      setSessionCookies(reply, context.names, context.secure, {
        fingerprint,
        refreshTtl: context.refreshTtl,
      });
    }
    return {
      access_token: pair.accessToken,
      refresh_token: pair.refreshToken,
      token_type: 'Bearer',
      expires_in: pair.expiresIn,
      session_id: pair.sid,
    };
  }
  const csrfToken = context.auth.csrfToken(pair.sid);
  setSessionCookies(reply, context.names, context.secure, {
    accessToken: pair.accessToken,
    accessTtl: pair.expiresIn,
    refreshToken: pair.refreshToken,
    refreshTtl: context.refreshTtl,
    csrfToken,
    ...(fingerprint === undefined ? {} : { fingerprint }),
  });
  return {
    token_type: 'cookie',
    expires_in: pair.expiresIn,
    session_id: pair.sid,
    csrf_token: csrfToken,
  };
}
