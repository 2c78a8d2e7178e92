import { assertOneAuthorization } from './bearer.js';
import { isCorsPreflight } from './preflight.js';
import type { AuthContext, CredentialHeaders, RouteRequirements, TokenGuard } from './types.js';

/** A request's headers as the adapters hand them over (Node's, possibly through a framework). */
export type RequestHeaders = CredentialHeaders & {
  readonly 'access-control-request-method'?: string | readonly string[] | undefined;
};

/**
 * What the Express and Fastify adapters do with a request before they answer it: null for a CORS
 * preflight, which carries no identity (see `isCorsPreflight`; the adapter answers it or hands it
 * on); otherwise a repeated Authorization header is refused and the guard checks the request. A
 * refusal found at once is thrown; a check that needs I/O returns a promise (see
 * `TokenGuard.checkFast`). @internal
 */
export function checkRequest(
  guard: TokenGuard,
  headers: RequestHeaders,
  method: string | undefined,
  rawHeaders: readonly string[] | undefined,
  route: RouteRequirements | undefined,
): AuthContext | Promise<AuthContext> | null {
  if (isCorsPreflight(method, headers)) return null;
  if (headers.authorization !== undefined) assertOneAuthorization(rawHeaders);
  return guard.checkFast(headers, route, method);
}
