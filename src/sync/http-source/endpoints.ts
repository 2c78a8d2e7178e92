import { RevocableError } from '../../errors/revocable-error.js';

/** The auth server's endpoints that a source reads, from its base URL. */
export interface FeedEndpoints {
  /** `GET {url}/revocations`: the live events and the log position they reach. */
  readonly snapshot: URL;
  /** `GET {url}/revocations/stream`: server-sent events after a position. */
  readonly stream: URL;
  /** `GET {url}/.well-known/jwks.json`: the public keys. */
  readonly jwks: URL;
}

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

// IPv4 loopback (127.0.0.0/8) as the URL parser writes it: four decimal parts.
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

// The unspecified addresses: a connection to them reaches this machine (as `--host 0.0.0.0`
// invites one to write).
const THIS_MACHINE = new Set(['localhost', '[::1]', '0.0.0.0', '[::]']);

/** Whether a URL's host is this machine, where plain http crosses no network. */
function isLoopbackHost(hostname: string): boolean {
  return THIS_MACHINE.has(hostname) || IPV4_LOOPBACK.test(hostname);
}

/**
 * The endpoints under the auth server's base URL (`https://auth.example` or
 * `https://gateway.example/auth`). The URL may carry no credentials, query or fragment: fetch
 * refuses credentials in a URL anyway, and every error message names the URLs it failed on, so
 * whatever is in them must be safe to log. Credentials go in the `headers` option.
 *
 * Plain `http:` is taken only to this machine unless `allowInsecureHttp`: the JWKS is what every
 * token is checked against, so whoever can change it on the way can sign tokens of their own, and
 * whoever can hold back the feed's events keeps revoked tokens alive.
 */
export function feedEndpoints(url: unknown, allowInsecureHttp = false): FeedEndpoints {
  if (typeof url !== 'string' && !(url instanceof URL)) {
    throw invalid('url must be the auth server URL, a string or a URL.');
  }
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    // The text is not repeated: it may hold a secret.
    throw invalid('url must be an absolute http or https URL.');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw invalid('url must be an absolute http or https URL.');
  }
  if (base.username !== '' || base.password !== '') {
    throw invalid(
      'url must not carry credentials: give them in the headers option (Authorization), which no error message shows.',
    );
  }
  if (base.search !== '' || base.hash !== '') {
    throw invalid("url must be the auth server's base URL, without a query or a fragment.");
  }
  if (base.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHost(base.hostname)) {
    throw invalid(
      `url is plain http to ${base.host}, which is not this machine: anyone on the network path could change the signing keys and hold back revocations. Use https, or set allowInsecureHttp: true on a network you trust (a docker-compose service, say).`,
    );
  }
  const root = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  return {
    snapshot: new URL(`${root}/revocations`),
    stream: new URL(`${root}/revocations/stream`),
    jwks: new URL(`${root}/.well-known/jwks.json`),
  };
}

/** A URL as error messages show it: origin and path (the endpoints carry nothing else). */
export function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** The stream's URL resuming after `position` (the `after` query parameter). */
export function streamUrl(stream: URL, position: number): URL {
  const url = new URL(stream);
  url.searchParams.set('after', String(position));
  return url;
}
