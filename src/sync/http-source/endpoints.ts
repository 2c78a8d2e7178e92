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

/**
 * The endpoints under the auth server's base URL (`https://auth.example` or
 * `https://gateway.example/auth`). The URL may carry no credentials, query or fragment: fetch
 * refuses credentials in a URL anyway, and every error message names the URLs it failed on, so
 * whatever is in them must be safe to log. Credentials go in the `headers` option.
 */
export function feedEndpoints(url: unknown): FeedEndpoints {
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
