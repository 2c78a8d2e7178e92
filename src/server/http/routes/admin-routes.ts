import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RevocableError } from '../../../errors/revocable-error.js';
import type { RouteContext } from '../route-context.js';
import { sessionView } from '../session-view.js';

type UserRequest = FastifyRequest<{ Params: { sub: string } }>;

/**
 * The administrator's routes (role `admin`): ban, unban, end a user's sessions, set a user's
 * roles, the emergency cut-off of everything, and key rotation and retirement.
 */
export function adminRoutes(app: FastifyInstance, context: RouteContext): void {
  const { runtime, auth } = context;
  const { sessions, accounts } = runtime;

  // In onRequest, before the body is read or checked: whoever is not an administrator learns
  // nothing about a route from its answers (401 or 403 whatever the body), and costs no parse.
  const adminOnly = {
    onRequest: async (request: FastifyRequest): Promise<void> => {
      auth.requireRole(await auth.authenticate(request), 'admin');
    },
  };

  // Admin actions name users by id; an unknown one is a typo worth reporting, not a silent no-op.
  async function knownUser(request: UserRequest): Promise<string> {
    const { sub } = request.params;
    if ((await accounts.get(sub)) === null) {
      throw new RevocableError('ERR_USER_UNKNOWN', 'No user has this id.');
    }
    return sub;
  }

  app.post<{ Params: { sub: string } }>('/admin/users/:sub/ban', adminOnly, async (request) => {
    const sub = await knownUser(request);
    const ended = await sessions.ban(sub);
    return { sub, banned: true, sessions_ended: ended.length };
  });

  app.post<{ Params: { sub: string } }>('/admin/users/:sub/unban', adminOnly, async (request) => {
    const sub = await knownUser(request);
    await sessions.unban(sub);
    return { sub, banned: false };
  });

  app.post<{ Params: { sub: string } }>(
    '/admin/users/:sub/logout-all',
    adminOnly,
    async (request) => {
      const sub = await knownUser(request);
      const ended = await sessions.logoutAll(sub);
      return { sub, sessions_ended: ended.length };
    },
  );

  // A role change ends every session of the user and cuts off their access tokens: a token or a
  // session keeps the roles it was given, so only a new login carries the new ones. The roles are
  // written first; a login that read the old ones meanwhile finds the new ones once its session
  // is stored (see startLoginSession).
  app.put<{ Params: { sub: string }; Body: { roles: unknown } }>(
    '/admin/users/:sub/roles',
    {
      ...adminOnly,
      schema: {
        body: {
          type: 'object',
          required: ['roles'],
          additionalProperties: false,
          properties: { roles: { type: 'array', items: { type: 'string', maxLength: 64 } } },
        },
      },
    },
    async (request) => {
      const sub = await knownUser(request);
      const user = await accounts.setRoles(sub, request.body.roles);
      const ended = await sessions.logoutAll(sub);
      return {
        id: user.id,
        username: user.username,
        roles: user.roles,
        sessions_ended: ended.length,
      };
    },
  );

  app.get<{ Params: { sub: string } }>('/admin/users/:sub/sessions', adminOnly, async (request) => {
    const sub = await knownUser(request);
    const list = await sessions.listSessions(sub);
    return {
      sub,
      sessions: list.map(sessionView),
    };
  });

  app.post('/admin/revoke-all', adminOnly, async () => {
    // The emergency: every access token issued until now dies by the global cut-off, every
    // session (and so every refresh token) in the store, in one step. The admin's own too.
    await sessions.revokeEverything();
    return { revoked: 'everything', at: Math.floor(runtime.index.now()) };
  });

  app.post('/admin/keys/rotate', adminOnly, async () => {
    const key = await runtime.keys.rotate();
    return { kid: key.kid, alg: key.alg };
  });

  app.post<{ Params: { kid: string } }>('/admin/keys/:kid/retire', adminOnly, async (request) => {
    const { kid } = request.params;
    await sessions.retireKey(kid);
    return { retired: kid, active_kid: runtime.keys.ring.active.kid };
  });
}
