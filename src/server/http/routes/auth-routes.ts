import type { FastifyInstance } from 'fastify';
import { RevocableError } from '../../../errors/revocable-error.js';
import { assertCookieOnce } from '../../../http/cookies.js';
import { sessionIdOf } from '../../../sessions/refresh-token.js';
import { clearSessionCookies } from '../cookies.js';
import { startLoginSession } from '../login-session.js';
import { clientOf, type RouteContext } from '../route-context.js';
import { sessionView } from '../session-view.js';
import { newFingerprint, sendTokens, type TokenMode } from '../token-response.js';

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const mode = { type: 'string', enum: ['bearer', 'cookie'] } as const;
// A label shown back in session lists (an admin's too): no control characters (NUL, which
// PostgreSQL's text refuses, among them) and no bidirectional overrides that would make it read
// as something else; anything else, emoji included, is a name someone gave their device.
const label = (maxLength: number) =>
  ({
    type: 'string',
    maxLength,
    pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$',
  }) as const;

const credentials = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: { username: text(256), password: text(1024), device: label(128), mode },
} as const;

interface LoginBody {
  username: string;
  password: string;
  device?: string;
  mode?: TokenMode;
}

/** The routes of a signed-in user: register, login, refresh, logout, sessions, password, me. */
export function authRoutes(app: FastifyInstance, context: RouteContext): void {
  const { runtime, auth, names, tokens } = context;
  const { sessions, accounts, config, backend } = runtime;

  app.post<{ Body: { username: string; password: string } }>(
    '/auth/register',
    {
      schema: {
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: { username: text(256), password: text(1024) },
        },
      },
    },
    async (request, reply) => {
      if (config.registration === 'closed') {
        throw new RevocableError(
          'ERR_REGISTRATION_CLOSED',
          'This server does not accept registrations; an administrator creates users.',
        );
      }
      const user = await accounts.register(request.body.username, request.body.password);
      void reply.code(201);
      return { id: user.id, username: user.username, roles: user.roles };
    },
  );

  app.post<{ Body: LoginBody }>(
    '/auth/login',
    { schema: { body: credentials } },
    async (request, reply) => {
      const { username, password, device } = request.body;
      const client = clientOf(request);
      let user: Awaited<ReturnType<typeof accounts.authenticate>>;
      try {
        user = await accounts.authenticate(username, password, client.ip);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        runtime.metrics.login(code === 'ERR_LOGIN_THROTTLED' ? 'throttled' : 'failed');
        throw error;
      }
      const fingerprint = config.fingerprint ? newFingerprint(auth) : undefined;
      let pair: Awaited<ReturnType<typeof startLoginSession>>;
      try {
        pair = await startLoginSession(accounts, sessions, user, (account) => ({
          ...client,
          ...(device === undefined ? {} : { device }),
          claims: {
            roles: [...account.roles],
            preferred_username: account.username,
            ...(fingerprint === undefined ? {} : { fgp: fingerprint.claim }),
          },
        }));
      } catch (error) {
        // Counted here, once a request: a login whose session was started again (the account
        // changed during it) made two sessions but is one login. A store failure is no result.
        const code = (error as { code?: unknown }).code;
        if (code === 'ERR_SUBJECT_BANNED') runtime.metrics.login('banned');
        else if (code === 'ERR_LOGIN_FAILED') runtime.metrics.login('failed');
        throw error;
      }
      runtime.metrics.login('success');
      return sendTokens(reply, pair, request.body.mode ?? 'bearer', tokens, fingerprint?.cookie);
    },
  );

  app.post<{ Body: { refresh_token?: string } | undefined }>(
    '/auth/refresh',
    {
      schema: {
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { refresh_token: text(256) },
        },
      },
    },
    async (request, reply) => {
      const fromBody = request.body?.refresh_token;
      if (fromBody === undefined) assertCookieOnce(request.headers.cookie, names.refresh);
      const cookie = request.cookies[names.refresh];
      const presented = fromBody ?? cookie;
      if (presented === undefined) {
        throw new RevocableError(
          'ERR_HTTP_BODY_INVALID',
          'Give the refresh token as {"refresh_token": "..."}, or send the refresh cookie of cookie mode.',
        );
      }
      const via: TokenMode = fromBody === undefined ? 'cookie' : 'bearer';
      const sid = sessionIdOf(presented);
      // A refresh by cookie is a state change a cross-site page could otherwise trigger.
      if (via === 'cookie') auth.checkCsrf(request, sid ?? '');
      // A session bound to a fingerprint cookie refreshes only with it. Checked before the
      // rotation: a stolen refresh token presented without the cookie must not be spent, or the
      // owner's next refresh would look like a reuse and end the session (a logout by theft).
      // Whatever the setting now: a session bound while it was on stays bound, as its access
      // tokens (which carry the binding) do.
      if (sid !== null) {
        const session = await backend.store.getSession(sid);
        if (session !== null) auth.checkFingerprint(request, session.claims);
      }
      let pair: Awaited<ReturnType<typeof sessions.refresh>>;
      try {
        pair = await sessions.refresh(presented, clientOf(request));
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        runtime.metrics.refresh(
          code === 'ERR_REFRESH_REUSED'
            ? 'reused'
            : code === 'ERR_SESSION_EXPIRED'
              ? 'expired'
              : code === 'ERR_SESSION_REVOKED' || code === 'ERR_SUBJECT_BANNED'
                ? 'revoked'
                : 'invalid',
        );
        throw error;
      }
      return sendTokens(reply, pair, via, tokens);
    },
  );

  app.post('/auth/logout', async (request, reply) => {
    const who = await auth.authenticate(request);
    const ended = await sessions.logout(who.sid);
    if (who.via === 'cookie') clearSessionCookies(reply, names, config.cookieSecure);
    return { session_id: who.sid, ended };
  });

  app.post('/auth/logout-all', async (request, reply) => {
    const who = await auth.authenticate(request);
    const ended = await sessions.logoutAll(who.sub);
    if (who.via === 'cookie') clearSessionCookies(reply, names, config.cookieSecure);
    return { sessions_ended: ended.length };
  });

  app.get('/auth/sessions', async (request) => {
    const who = await auth.authenticate(request);
    const list = await sessions.listSessions(who.sub);
    return {
      sessions: list.map((session) => ({
        ...sessionView(session),
        current: session.sid === who.sid,
      })),
    };
  });

  app.delete<{ Params: { sid: string } }>('/auth/sessions/:sid', async (request, reply) => {
    const who = await auth.authenticate(request);
    const { sid } = request.params;
    // Only the caller's own sessions: another user's session answers as if it did not exist.
    const own = await sessions.listSessions(who.sub);
    if (!own.some((session) => session.sid === sid)) {
      throw new RevocableError('ERR_SESSION_UNKNOWN', 'You have no live session with this id.');
    }
    const ended = await sessions.logout(sid);
    if (sid === who.sid && who.via === 'cookie') {
      clearSessionCookies(reply, names, config.cookieSecure);
    }
    return { session_id: sid, ended };
  });

  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/auth/password',
    {
      schema: {
        body: {
          type: 'object',
          required: ['current_password', 'new_password'],
          additionalProperties: false,
          properties: { current_password: text(1024), new_password: text(1024) },
        },
      },
    },
    async (request, reply) => {
      const who = await auth.authenticate(request);
      // Every other session ends; this one lives on with a new access token, since the cut-off
      // also ends the access token that made this request. They end before the new password is
      // stored: the two are separate writes, and a fault between them (the database gone, the
      // process killed) must leave the old password with the sessions ended, which the client can
      // change again, never the new password with the other sessions (a thief's) alive, which the
      // old password could no longer fix.
      const ended: string[] = [];
      await accounts.changePassword(
        who.sub,
        request.body.current_password,
        request.body.new_password,
        clientOf(request).ip,
        async () => {
          ended.push(...(await sessions.passwordChanged(who.sub, { keep: who.sid })));
        },
      );
      // A login that proved the old password after that cut-off and read the account back before
      // the new password was stored (see startLoginSession) started a session: it ends here.
      ended.push(...(await sessions.logoutOthers(who.sid)));
      const grant = await sessions.issueAccessToken(who.sid);
      void reply.header('cache-control', 'no-store');
      if (who.via === 'cookie') {
        void reply.setCookie(names.access, grant.accessToken, {
          path: '/',
          secure: config.cookieSecure,
          sameSite: 'strict',
          httpOnly: true,
          maxAge: grant.expiresIn,
        });
        return {
          token_type: 'cookie',
          expires_in: grant.expiresIn,
          session_id: grant.sid,
          sessions_ended: ended.length,
        };
      }
      return {
        access_token: grant.accessToken,
        token_type: 'Bearer',
        expires_in: grant.expiresIn,
        session_id: grant.sid,
        sessions_ended: ended.length,
      };
    },
  );

  app.get('/auth/me', async (request) => (await auth.authenticate(request)).claims);
}
