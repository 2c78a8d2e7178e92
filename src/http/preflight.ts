/**
 * Whether a request is a CORS preflight (Fetch standard): `OPTIONS` with an
 * `Access-Control-Request-Method` header. A browser never sends credentials on one, so refusing it
 * with 401 would break every cross-origin call to the route before it is made. It carries no
 * identity and asks nothing of the route but its CORS headers, so the adapters let it through with
 * no `auth`: the CORS middleware answers it, or the route's OPTIONS handler sees no one. @internal
 */
export function isCorsPreflight(
  method: string | undefined,
  headers: { readonly 'access-control-request-method'?: string | readonly string[] | undefined },
): boolean {
  return method === 'OPTIONS' && headers['access-control-request-method'] !== undefined;
}
