/**
 * Whether a request is a CORS preflight (Fetch standard): `OPTIONS` with an
 * `Access-Control-Request-Method` header. A browser never sends credentials on one, so refusing it
 * with 401 would break every cross-origin call to the route before it is made. It carries no
 * identity and asks nothing of the route but its CORS headers, so the adapters answer it 204
 * (with the headers a CORS middleware in front set), or, with `preflight: 'pass'`, hand it on
 * with no `auth`. @internal
 */
export function isCorsPreflight(
  method: string | undefined,
  headers: { readonly 'access-control-request-method'?: string | readonly string[] | undefined },
): boolean {
  return method === 'OPTIONS' && headers['access-control-request-method'] !== undefined;
}
