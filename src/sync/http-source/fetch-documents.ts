import { RevocableError } from '../../errors/revocable-error.js';
import type { KeyRing } from '../../jwt/key-ring.js';
import { shownUrl } from './endpoints.js';
import { type FeedSnapshot, parseSnapshot } from './feed-messages.js';
import { getJson, type HttpContext } from './http-request.js';
import { readJwks } from './jwks.js';

// A JWKS holds at most 100 keys of a few hundred bytes each (an RSA one about 1 KiB).
const MAX_JWKS_BYTES = 1024 * 1024;
// About two million live events; a real deployment's snapshot is a few megabytes at most.
const MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024;

/**
 * `GET {url}/.well-known/jwks.json`, read as a ring of verify-only keys. `ERR_SYNC_CONNECTION`
 * when it cannot be fetched, `ERR_KEYRING_INVALID` when it is not a public JWKS; both name the URL.
 */
export async function fetchJwks(http: HttpContext, url: URL, timeoutMs: number): Promise<KeyRing> {
  const document = await getJson(http, url, {
    timeoutMs,
    maxBytes: MAX_JWKS_BYTES,
    invalid: (message, cause) => new RevocableError('ERR_KEYRING_INVALID', message, { cause }),
  });
  return readJwks(document, shownUrl(url));
}

/**
 * `GET {url}/revocations`, every event checked. `ERR_SYNC_CONNECTION` when it cannot be fetched,
 * `ERR_SYNC_MESSAGE_INVALID` when it is not a snapshot.
 */
export async function fetchSnapshot(
  http: HttpContext,
  url: URL,
  timeoutMs: number,
): Promise<FeedSnapshot> {
  const body = await getJson(http, url, {
    timeoutMs,
    maxBytes: MAX_SNAPSHOT_BYTES,
    invalid: (message, cause) => new RevocableError('ERR_SYNC_MESSAGE_INVALID', message, { cause }),
  });
  return parseSnapshot(body);
}
