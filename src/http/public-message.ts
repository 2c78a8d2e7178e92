import { JwtClaimError, type RevocableError } from '../errors/revocable-error.js';
import { AUDIENCE_REFUSED, ISSUER_REFUSED } from '../jwt/claims.js';

// A 5xx says the server could not do its part, and its message is for the operator: a driver's
// reason, a schema or table name, what a misconfiguration is. The code still tells the client what
// happened and whether to retry; the message and `cause` stay on the error, for the log.
const UNAVAILABLE = 'The service is unavailable for a moment: retry shortly.';
const FAILED = 'The server met an unexpected error.';

/**
 * The message an HTTP answer carries for an error of the given status: its own below 500 (but for
 * a verifier's iss or aud refusal, its first sentence), and a fixed sentence from 500 up. @internal
 */
export function publicMessage(error: RevocableError, status: number): string {
  if (status >= 500) return status === 503 ? UNAVAILABLE : FAILED;
  // A verifier's iss or aud refusal goes on to name the issuers or audiences this service accepts
  // and to quote the token's, for whoever reads the log. The client is told which check failed, as
  // it always was, and no more: what the service accepts is for its operator to read, not for any
  // bearer to probe.
  if (error instanceof JwtClaimError) {
    if (error.code === 'ERR_JWT_ISSUER') return ISSUER_REFUSED;
    if (error.code === 'ERR_JWT_AUDIENCE') return AUDIENCE_REFUSED;
  }
  return error.message;
}
