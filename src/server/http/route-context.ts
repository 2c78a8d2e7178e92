import type { FastifyRequest } from 'fastify';
import type { ServerRuntime } from '../runtime/runtime.js';
import type { CookieNames } from './cookies.js';
import type { Authenticator } from './request-auth.js';
import type { TokenAnswerContext } from './token-response.js';

/** What every group of routes is built from. */
export interface RouteContext {
  readonly runtime: ServerRuntime;
  readonly auth: Authenticator;
  readonly names: CookieNames;
  readonly tokens: TokenAnswerContext;
}

const MAX_USER_AGENT = 256;

/**
 * The client as the session records it: its address (from X-Forwarded-For only when the server is
 * told it sits behind a proxy) and its user agent, cut to a bound and stripped of anything but
 * printable text, so that a header can never make a login fail or bloat a record.
 */
export function clientOf(request: FastifyRequest): { ip: string; userAgent?: string } {
  const agent = request.headers['user-agent'];
  if (typeof agent !== 'string' || agent === '') return { ip: request.ip };
  const printable = agent.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_USER_AGENT);
  return { ip: request.ip, userAgent: printable };
}
