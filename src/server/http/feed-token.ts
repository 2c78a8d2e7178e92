import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { RevocableError } from '../../errors/revocable-error.js';
import { bearerToken } from './request-auth.js';

type FeedTokenHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The check `GET /revocations`, `/revocations/stream` and `/metrics` run first when the server
 * has a feed token (`REVOCABLE_FEED_TOKEN`): `Authorization: Bearer <token>`, compared in
 * constant time (as digests, so the length says nothing either), or 401 `ERR_AUTH_REQUIRED`.
 * Without a token there is no check (null), and they are open to whoever reaches the server.
 */
export function feedTokenCheck(token: string | null): { onRequest: FeedTokenHook } | null {
  if (token === null) return null;
  const expected = digest(token);
  return {
    onRequest(request, _reply, done) {
      let presented: string | null;
      try {
        presented = bearerToken(request);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (presented === null || !timingSafeEqual(digest(presented), expected)) {
        done(
          new RevocableError(
            'ERR_AUTH_REQUIRED',
            'This endpoint needs the feed token of the server: Authorization: Bearer <token>.',
          ),
        );
        return;
      }
      done();
    },
  };
}
