/**
 * Every error code revocable can raise, with the one-line meaning documented in `docs/errors.md`.
 *
 * Codes are public API: they are never renamed and a retired code is never reused. A test checks
 * that this table, the HTTP status table and the documentation agree.
 */
export const ERROR_CODES = {
  ERR_INVALID_ARGUMENT: 'An argument or option has the wrong type or an impossible value.',
  ERR_JWT_MALFORMED: 'The token is not a well-formed JWS compact serialization.',
  ERR_JWT_TOO_LARGE: 'The token is longer than the configured maximum.',
  ERR_JWT_HEADER:
    'The protected header carries a member revocable never accepts (crit, b64, embedded keys, zip).',
  ERR_JWT_ALG: "The header's alg is missing, unknown, or not the algorithm the key is bound to.",
  ERR_JWT_KID_MISSING: 'The header has no kid and more than one key could have signed it.',
  ERR_JWT_KID_UNKNOWN: 'No key in the ring has the header kid.',
  ERR_JWT_KEY_RETIRED:
    'The key named by kid is retired and no longer verifies tokens; for a token without kid, every key of its alg is.',
  ERR_JWT_SIGNATURE: 'The signature does not verify with the key.',
  ERR_JWT_TYP: 'The header typ is not the token type this verifier accepts.',
  ERR_JWT_CLAIM_INVALID: 'A registered claim has the wrong type or shape.',
  ERR_JWT_CLAIM_MISSING: 'A required claim is absent.',
  ERR_JWT_EXPIRED: 'The token has expired (exp).',
  ERR_JWT_NOT_YET_VALID: 'The token is not valid yet (nbf).',
  ERR_JWT_IAT_FUTURE:
    'The token claims to be issued in the future, beyond the clock tolerance (iat).',
  ERR_JWT_ISSUER: 'The iss claim is not an accepted issuer.',
  ERR_JWT_AUDIENCE: 'The aud claim names none of the accepted audiences.',
  ERR_JWT_LIFETIME:
    'The token lives longer (exp - iat) than the verifier allows: longer than the revocation index remembers a revocation.',
  ERR_KEY_INVALID:
    'A key is malformed, of the wrong type, or cannot be imported, or its public part does not match its private part.',
  ERR_KEY_WEAK:
    'A key is too short for its algorithm, or one anyone could sign with (an RSA public exponent of 1 or an even one, an Ed25519 point of small order).',
  ERR_KEY_ALG_MISMATCH: 'A key does not fit the algorithm it is bound to.',
  ERR_KEY_NOT_PRIVATE: 'The key can only verify; signing needs the private or secret key.',
  ERR_KEYRING_INVALID: 'A key ring document is malformed (duplicate kid, bad state, no keys).',
  ERR_KEYRING_NO_ACTIVE_KEY: 'The key ring has no active key to sign with.',
  ERR_KEYRING_KID_UNKNOWN: 'The key ring has no key with that kid.',
  ERR_TOKEN_REVOKED:
    'The token has been revoked (by jti, session, subject, global cut-off or key).',
  ERR_REVOCATION_EVENT_INVALID:
    'A revocation event is malformed, of an unknown version or kind, or absurd.',
  ERR_REVOCATION_SNAPSHOT_INVALID:
    'A revocation index snapshot is corrupt, truncated or of an unknown version.',
  ERR_REVOCATION_STALE:
    'The revocation index has not heard from its source within the staleness bound.',
  ERR_REFRESH_INVALID: 'The refresh token is malformed, unknown, or not of this session.',
  ERR_REFRESH_REUSED:
    'A spent refresh token was presented after its grace window: treated as theft, the session is revoked.',
  ERR_SESSION_REVOKED: 'The session has ended (logout, logout everywhere, ban, reuse, emergency).',
  ERR_SESSION_EXPIRED: 'The session passed its idle timeout or its absolute lifetime.',
  ERR_SESSION_UNKNOWN: 'No session has this id.',
  ERR_SUBJECT_BANNED: 'The subject is banned: no login and no refresh.',
  ERR_REAUTH_REQUIRED: 'The action needs an authentication more recent than its max_age.',
  ERR_STORE_SCHEMA:
    "The store's schema or key layout is newer than this revocable, or is not revocable's.",
  ERR_STORE_EVENT_CONFLICT:
    'An event id already in the revocation log was appended again with other contents.',
  ERR_STORE_UNSAFE:
    "The store's backend is configured so that it could silently lose revocations (a Redis eviction policy that may drop keys of the store, a SQLite database file with synchronous = OFF).",
  ERR_STORE_UNAVAILABLE:
    'The store could not be reached or its driver failed (refused or lost connection, unknown database, failed authentication, a lock or statement timeout; the driver error is the cause), or a resource server guard waited on it longer than its `storeTimeout`.',
  ERR_DRIVER_MISSING:
    'An optional driver package (better-sqlite3, pg, ioredis) is not installed; the message names the package to install.',
  ERR_KEYS_SECRET:
    'REVOCABLE_KEYS_SECRET (the key that encrypts the shared key ring) is missing or shorter than 32 bytes.',
  ERR_KEYRING_SEALED_INVALID:
    'A sealed key ring does not decrypt with this secret, was altered, is of an unknown format, or is older than one already seen.',
  ERR_KEYRING_CONFLICT:
    'The shared key ring changed under every attempt to save a rotation or retirement (too many writers at once).',
  ERR_SYNC_MESSAGE_INVALID:
    'A message on the revocation bus is malformed, too large or of an unknown kind (ignored; the log is read instead).',
  ERR_SYNC_UNAVAILABLE:
    'The revocation bus is not connected or did not answer in time: the events were not published (followers read them from the log).',
  ERR_SYNC_CONNECTION:
    "The push channel's connection failed, was lost or stopped answering; the transport reconnects by itself.",
  ERR_SERVER_CONFIG:
    'A server setting (flag, environment variable or configuration file) is missing, malformed or conflicts with another; the message names each bad one.',
  ERR_AUTH_REQUIRED:
    'The request carries no access token: no `Authorization: Bearer` header (a credential of another scheme, such as `Basic`, counts as none) and no access cookie.',
  ERR_AUTH_HEADER_INVALID:
    'The Authorization header is neither one `Bearer <token>` of printable ASCII within the size limit nor a credential of another scheme, or the request has two Authorization headers, or two access cookies, or two fingerprint cookies for a token bound to one, or two refresh cookies at the auth server (one set by another path or domain).',
  ERR_FORBIDDEN: 'The token is valid but lacks the role or scope the route requires.',
  ERR_CSRF:
    'A request authenticated by cookie that changes state lacks the X-CSRF-Token header, or it does not match the CSRF cookie (the auth server also binds it to the session), or the CSRF cookie is there twice.',
  ERR_FINGERPRINT_MISMATCH:
    'The token is bound to a fingerprint cookie (its fgp claim) that the request lacks or does not match.',
  ERR_LOGIN_FAILED:
    'The username or password is wrong; the answer is the same, in the same time, whether or not the user exists.',
  ERR_LOGIN_THROTTLED:
    'Too many failed logins for this account or from this client address; retry after the time the answer gives.',
  ERR_REGISTRATION_CLOSED:
    'This server does not accept registrations; an administrator creates users.',
  ERR_USERNAME_INVALID:
    'The username is empty, too long, or has characters other than letters, digits and . _ - @.',
  ERR_USERNAME_TAKEN: 'Another user has this username (compared without regard to case).',
  ERR_PASSWORD_POLICY:
    'The password is too short or too long (counted in characters as typed and of its NFKC form), or has control characters, a lone surrogate or a code point Unicode does not assign.',
  ERR_USER_UNKNOWN: 'No user has this id.',
  ERR_HTTP_BODY_INVALID:
    'The request body is not valid JSON (or form data where the route takes it), or a field is missing, unknown or of the wrong type.',
  ERR_HTTP_BODY_TOO_LARGE: 'The request body is larger than the route accepts.',
  ERR_HTTP_MEDIA_TYPE:
    "The request's Content-Type is not one the route accepts, or its body is compressed.",
  ERR_HTTP_NOT_FOUND: 'No route has this method and path.',
  ERR_STREAM_LIMIT:
    'The auth server serves as many revocation streams as it may, in all or from this client address; retry after the time the answer gives.',
  ERR_HTTP_REQUEST_TIMEOUT:
    'The request (its headers and body) did not arrive whole within the request timeout of the server; nothing was done.',
  ERR_HTTP_EXPECTATION_FAILED:
    'The request has an Expect header other than 100-continue, which the server does not fulfil; nothing was done.',
  ERR_HTTP_HEADERS_TOO_LARGE:
    'The request headers are larger than the server reads (16 KiB by default); nothing was done.',
  ERR_SERVER_CLOSING:
    'The server is shutting down and takes no new request; send it again (to another process of the cluster, if there is one).',
  ERR_SERVER_INTERNAL:
    'The server met an unexpected error and logged it; the answer carries no details.',
} as const;

/** The union of every error code. */
export type ErrorCode = keyof typeof ERROR_CODES;
