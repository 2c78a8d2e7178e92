import { RevocableError } from '../errors/revocable-error.js';
import type { Clock } from '../lib/clock.js';
import { decodedIsUtf8, decodedText, isBase64Url } from './base64url.js';
import { checkClaims } from './claims.js';
import { decodeJsonSegmentBytes, type ParsedHeader, parseHeader, parseJsonText } from './header.js';
import type { KeyRing } from './key-ring.js';
import type { JwtKey } from './keys.js';
import { checkPayloadStructure, isPlainText, type PayloadChecks } from './payload-checks.js';
import { signatureMatches } from './signature.js';
import type { JwtClaims, VerifiedJwt } from './types.js';
import { VerificationCache } from './verification-cache.js';
import { resolveVerifierOptions, warnIfUnscoped } from './verifier-options.js';

/** The default maximum token length, checked before anything is decoded. */
export const DEFAULT_MAX_TOKEN_LENGTH = 8192;

/**
 * The largest `clockTolerance` a verifier accepts, in seconds: 5 minutes, the "few minutes" of
 * RFC 7519 section 4.1.4. Every token outlives its `exp` by the tolerance, so a larger one, refused
 * with `ERR_INVALID_ARGUMENT` when the verifier is made, would quietly make `exp` mean nothing.
 */
export const MAX_CLOCK_TOLERANCE = 300;

/** The `typ` an access token carries (RFC 9068). */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/**
 * The claims RFC 9068 section 2.2 requires in an access token, which an `at+jwt` verifier requires
 * unless given its own `requiredClaims`. Every token revocable's signer makes with an issuer and an
 * audience carries them.
 *
 * @example
 * ```ts
 * // Require one more claim than the default, keeping the RFC 9068 ones.
 * createVerifier({ keys, issuer, audience, requiredClaims: [...ACCESS_TOKEN_CLAIMS, 'sid'] });
 * ```
 */
export const ACCESS_TOKEN_CLAIMS: readonly string[] = Object.freeze([
  'iss',
  'exp',
  'aud',
  'sub',
  'iat',
  'jti',
]);

/** Options for {@link createVerifier}. */
export interface VerifierOptions {
  /** The keys to trust: a ring, or a ring read from a public JWKS. */
  keys: KeyRing;
  /**
   * Accepted `iss` values; when set, `iss` is required and must be one of them. `null` accepts any
   * issuer on purpose. Left out, any issuer is accepted too, and the verifier emits one
   * `RevocableWarning` (`REVOCABLE_ANY_ISSUER`) when it is made.
   */
  issuer?: string | readonly string[] | null;
  /**
   * Accepted `aud` values; when set, `aud` is required and must name one of them. `null` accepts
   * any audience on purpose. Left out, any audience is accepted too, so a token the same issuer
   * minted for another service passes, and the verifier emits one `RevocableWarning`
   * (`REVOCABLE_ANY_AUDIENCE`) when it is made.
   */
  audience?: string | readonly string[] | null;
  /**
   * The header `typ` to demand (compared as a media type: case-insensitive, `application/` optional).
   * Defaults to `at+jwt`, so a refresh token or an ID token can never pose as an access token.
   * `null` accepts any `typ`, or none.
   */
  typ?: string | null;
  /**
   * Clock skew forgiven on `exp`, `nbf` and `iat`, in seconds or a string like `30s` (default 0).
   * At most {@link MAX_CLOCK_TOLERANCE} (5 minutes); the revocable verifier also holds it to its
   * index's `clockSkew`.
   */
  clockTolerance?: number | string;
  /**
   * Claims that must be present. Default: with `typ` `at+jwt` (the default), the claims RFC 9068
   * requires of an access token, {@link ACCESS_TOKEN_CLAIMS} (`iss`, `exp`, `aud`, `sub`, `iat`,
   * `jti`); with another `typ` or `null`, `['exp']`. A list given here replaces the default.
   */
  requiredClaims?: readonly string[];
  /**
   * The longest lifetime (`exp - iat`) accepted, in seconds or a string like `10m`; a token living
   * longer is `ERR_JWT_LIFETIME`, and with this set `exp` and `iat` are required. Default: no limit
   * (the revocable verifier sets its index's `maxAccessTokenLifetime`).
   */
  maxTokenLifetime?: number | string;
  /**
   * The payload rules (valid UTF-8, no repeated member names, no `__proto__` or `constructor`
   * members, clean `sub` / `sid` / `jti`, a nesting limit), each on by default. Turn off only what
   * another issuer's tokens need.
   */
  payloadChecks?: PayloadChecks;
  /** Maximum token length in characters (default 8192). */
  maxTokenLength?: number;
  /** The clock, in epoch seconds. */
  now?: Clock;
  /**
   * Remember the tokens that verified, so that the next verify of the same token skips the
   * signature and the parse and checks only its time claims (and, in the revocable verifier, the
   * revocation index, which is consulted on every verify). `true` keeps up to 65,536 tokens, a
   * number that many (up to 1,000,000); off by default. With it, returned claims are deeply frozen
   * on every verify, hit or miss. A change to the key ring empties it. See docs/jwt.md for sizing.
   */
  cache?: boolean | number;
}

/** A verifier made by {@link createVerifier}. */
export interface Verifier {
  /** Verifies a token and returns its claims; throws a `RevocableError` otherwise. Synchronous. */
  verify(token: string): JwtClaims;
  /** Like `verify`, returning the checked header too. */
  verifyJwt(token: string): VerifiedJwt;
}

// Headers repeat (one per key and typ), so a parsed header is kept by its segment. The bound stops a
// stream of distinct forged headers from growing memory; clearing is cheap and rare.
const HEADER_CACHE_LIMIT = 256;

/**
 * The verifier as other parts of revocable use it: `verify` returns the claims, and `lastHeader`
 * the parsed header of the token it last accepted, so a caller that needs the header (the revocable
 * verifier reads its `kid`) does not make every verify allocate a `{ header, claims }` pair.
 * @internal
 */
export interface VerifierCore {
  readonly verify: (token: string) => JwtClaims;
  /** The header of the token the last successful `verify` returned the claims of. */
  readonly lastHeader: () => ParsedHeader;
}

/**
 * Creates a synchronous verifier: strict parsing, the key ring's algorithm binding, the signature,
 * the header `typ`, and the registered claims, in one call.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ keys: ring, issuer: 'https://auth.example', audience: 'api' });
 * const claims = verifier.verify(token); // throws ERR_JWT_EXPIRED, ERR_JWT_SIGNATURE, ...
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const core = createVerifierCore(options);
  warnIfUnscoped(options, 'createVerifier');
  const { verify, lastHeader } = core;
  return {
    verify,
    verifyJwt: (token) => {
      const claims = verify(token);
      return { header: lastHeader().header, claims };
    },
  };
}

/** {@link createVerifier}'s work, for the parts of revocable that build on it. @internal */
export function createVerifierCore(options: VerifierOptions): VerifierCore {
  const { ring, expectedTyp, maxLength, rules, payload, now, capacity } =
    resolveVerifierOptions(options);
  const cache =
    capacity === 0 ? null : new VerificationCache(capacity, ring.revision, rules.tolerance);
  const headers = new Map<string, ParsedHeader>();
  // The header segment seen last, and its parse: most tokens a service sees share one header (one
  // active key), and comparing one string costs less than hashing it for the Map.
  let lastSegment = '';
  let lastParsed: ParsedHeader | null = null;
  // The header of the token last accepted, for lastHeader().
  let accepted: ParsedHeader | null = null;
  // Set when headerFor decodes a header segment, which overwrites the decoder's shared buffer that
  // holds the payload's bytes (decoded earlier, for the canonical check of step 2).
  let headerDecoded = false;

  function headerOf(segment: string): ParsedHeader {
    if (segment === lastSegment && lastParsed !== null) return lastParsed;
    const parsed = headerFor(segment);
    lastSegment = segment;
    lastParsed = parsed;
    return parsed;
  }

  function headerFor(segment: string): ParsedHeader {
    const cached = headers.get(segment);
    if (cached !== undefined) return cached;
    headerDecoded = true;
    const parsed = parseHeader(segment);
    if (expectedTyp !== null && parsed.typ !== expectedTyp) {
      throw new RevocableError(
        'ERR_JWT_TYP',
        'The token type is not the one this verifier accepts.',
      );
    }
    if (headers.size >= HEADER_CACHE_LIMIT) headers.clear();
    headers.set(segment, parsed);
    return parsed;
  }

  // A clock that returns NaN would pass every time check (every comparison with NaN is false).
  function currentTime(): number {
    const time = now();
    if (typeof time !== 'number' || !Number.isFinite(time)) {
      throw new RevocableError(
        'ERR_INVALID_ARGUMENT',
        'now() must return a finite number of epoch seconds.',
      );
    }
    return time;
  }

  function keyFor(parsed: ParsedHeader): JwtKey {
    let key: JwtKey | null | undefined;
    if (parsed.kid === undefined) {
      key = ring.soleKeyFor(parsed.alg);
      if (key === null) {
        throw new RevocableError(
          'ERR_JWT_KID_MISSING',
          'The token names no key and several could apply.',
        );
      }
      if (key === undefined) {
        // Asked only once no key can verify, so an accepted token pays nothing for it. Every key
        // that could have signed the token is retired: the answer its kid would have got.
        if (ring.hasKeyFor(parsed.alg)) {
          throw new RevocableError(
            'ERR_JWT_KEY_RETIRED',
            'The token names no key, and every key for its algorithm is retired.',
          );
        }
        throw new RevocableError('ERR_JWT_ALG', 'No key verifies this algorithm.');
      }
      return key;
    }
    key = ring.get(parsed.kid);
    if (key === undefined) throw new RevocableError('ERR_JWT_KID_UNKNOWN', 'No key has this kid.');
    if (key.state === 'retired') {
      throw new RevocableError('ERR_JWT_KEY_RETIRED', 'The key that signed this token is retired.');
    }
    // The key decides the algorithm; the header only has to agree with it.
    if (key.alg !== parsed.alg) {
      throw new RevocableError('ERR_JWT_ALG', 'The header alg is not the algorithm of its key.');
    }
    return key;
  }

  function verify(token: string): JwtClaims {
    if (typeof token !== 'string') {
      throw new RevocableError('ERR_JWT_MALFORMED', 'A token must be a string.');
    }
    if (token.length > maxLength) {
      throw new RevocableError(
        'ERR_JWT_TOO_LARGE',
        `The token is longer than ${maxLength} characters.`,
      );
    }
    const lastDot = token.lastIndexOf('.');
    if (cache !== null) {
      // A token whose time claims fail is not a hit: the full path below throws the exact error.
      const slot = cache.lookup(token, lastDot, ring.revision, currentTime);
      if (slot !== -1) {
        accepted = cache.headerAt(slot);
        return cache.claimsAt(slot);
      }
    }
    const firstDot = token.indexOf('.');
    if (firstDot <= 0 || lastDot === firstDot || token.indexOf('.', firstDot + 1) !== lastDot) {
      throw new RevocableError('ERR_JWT_MALFORMED', 'A token has exactly three segments.');
    }
    const payloadSegment = token.slice(firstDot + 1, lastDot);
    const signatureSegment = token.slice(lastDot + 1);
    // Shape first (step 2 of docs/jwt.md): a token that is not a JWS at all is malformed whatever
    // its header says, and never costs a key lookup (nor, at a resource server, a key reload for
    // its kid). The header segment is checked as it is decoded, just below.
    let payloadLength = decodeJsonSegmentBytes(payloadSegment, 'payload');
    if (!isBase64Url(signatureSegment)) {
      throw new RevocableError('ERR_JWT_MALFORMED', 'The signature is not canonical base64url.');
    }
    headerDecoded = false;
    const parsed = headerOf(token.slice(0, firstDot));
    const key = keyFor(parsed);
    if (!signatureMatches(key, token.slice(0, lastDot), signatureSegment)) {
      throw new RevocableError('ERR_JWT_SIGNATURE', 'The signature does not verify.');
    }
    // A header not seen before was decoded into the buffer that held the payload's bytes: decode
    // them again (they are canonical, so the length is the same).
    if (headerDecoded) payloadLength = decodeJsonSegmentBytes(payloadSegment, 'payload');
    // Parsed only once the signature holds: nothing unauthenticated is parsed beyond the header.
    const text = decodedText(payloadLength);
    // Node's decoder turns every invalid byte into U+FFFD, so only a text holding one can be invalid.
    if (payload.utf8 && text.includes('\uFFFD') && !decodedIsUtf8(payloadLength)) {
      throw new RevocableError('ERR_JWT_MALFORMED', 'The payload is not valid UTF-8.');
    }
    const claims = parseJsonText(text, 'payload') as JwtClaims;
    if (payload.structure) checkPayloadStructure(text, claims, payload);
    const plain = rules.identifiers && isPlainText(text, payloadLength);
    checkClaims(claims, rules, currentTime(), plain);
    if (cache !== null) cache.remember(token, lastDot, claims, parsed, currentTime);
    accepted = parsed;
    return claims;
  }

  function lastHeader(): ParsedHeader {
    if (accepted === null) {
      throw new RevocableError('ERR_INVALID_ARGUMENT', 'No token has been verified yet.');
    }
    return accepted;
  }

  return { verify, lastHeader };
}
