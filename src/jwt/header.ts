import { RevocableError } from '../errors/revocable-error.js';
import { duplicateMemberName } from '../lib/json-duplicate-member.js';
import { hasControlCharacter, isWellFormedText } from '../lib/text.js';
import { type Algorithm, isAlgorithm } from './algorithms.js';
import { decodeCanonical, decodedIsUtf8, decodedText } from './base64url.js';
import type { JwtHeader } from './types.js';

/** A header segment after parsing, with the fields the verifier reads on every call. */
export interface ParsedHeader {
  readonly header: JwtHeader;
  readonly alg: Algorithm;
  readonly kid: string | undefined;
  /** `typ` in canonical form (lower case, without `application/`), or undefined. */
  readonly typ: string | undefined;
}

// Members that would make revocable trust something other than its own key ring, or change how the
// payload is read. RFC 8725 3.1 and 3.10; RFC 7797 (b64); RFC 7516 (zip, enc are JWE).
const REFUSED_MEMBERS = ['crit', 'b64', 'jwk', 'jku', 'x5u', 'x5c', 'zip', 'enc'] as const;

/**
 * Canonical form of a `typ` value: RFC 7515 4.1.9 lets the `application/` prefix be left out and
 * media types compare without regard to case.
 */
export function canonicalTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice(12) : lower;
}

function malformed(message: string): RevocableError {
  return new RevocableError('ERR_JWT_MALFORMED', message);
}

/**
 * Decodes a header or payload segment into the decoder's shared buffer and returns its length in
 * bytes (read them with `decodedText`). Throws `ERR_JWT_MALFORMED` unless the segment is non-empty
 * canonical base64url.
 */
export function decodeJsonSegmentBytes(segment: string, part: 'header' | 'payload'): number {
  const length = segment.length === 0 ? -1 : decodeCanonical(segment);
  if (length < 0) throw malformed(`The ${part} is not canonical base64url.`);
  return length;
}

/**
 * Decodes a base64url segment holding a JSON object; the caller says which part it is. Throws
 * `ERR_JWT_MALFORMED` unless it is non-empty canonical base64url holding a JSON object.
 */
export function decodeJsonSegment(
  segment: string,
  part: 'header' | 'payload',
): Record<string, unknown> {
  return parseJsonText(decodedText(decodeJsonSegmentBytes(segment, part)), part);
}

/** Parses the decoded text of a header or payload, which must be a JSON object. */
export function parseJsonText(text: string, part: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(`The ${part} is not valid JSON.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`The ${part} is not a JSON object.`);
  }
  if (part === 'header' && duplicateMemberName(text, true) !== null) {
    throw malformed('The header repeats a member name.');
  }
  return value as Record<string, unknown>;
}

/**
 * Parses and checks a protected header segment: everything about the header that does not depend
 * on the key ring or the verifier's options.
 */
export function parseHeader(segment: string): ParsedHeader {
  const length = decodeJsonSegmentBytes(segment, 'header');
  const text = decodedText(length);
  // Node's decoder turns every invalid byte into U+FFFD, so only a text holding one can be invalid.
  // Another parser would read such bytes differently (or refuse them): two readings of one header.
  if (text.includes('\uFFFD') && !decodedIsUtf8(length)) {
    throw malformed('The header is not valid UTF-8.');
  }
  const header = parseJsonText(text, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string') throw new RevocableError('ERR_JWT_ALG', 'The header has no alg.');
  if (!isAlgorithm(alg)) {
    // Covers "none" in every spelling, and every algorithm revocable does not implement.
    throw new RevocableError('ERR_JWT_ALG', 'The header alg is not a supported algorithm.');
  }
  for (const member of REFUSED_MEMBERS) {
    if (Object.hasOwn(header, member)) {
      throw new RevocableError('ERR_JWT_HEADER', `The header member ${member} is not accepted.`);
    }
  }
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256)) {
    throw malformed('The header kid must be a non-empty string of at most 256 characters.');
  }
  // The kid reaches the revocation index (key revocations) and logs; a lone surrogate has no UTF-8
  // form, so it would be stored or printed as some other kid, and a control character forges lines.
  if (kid !== undefined && (!isWellFormedText(kid) || hasControlCharacter(kid))) {
    throw malformed('The header kid must be well-formed text without control characters.');
  }
  const typ = header.typ;
  if (typ !== undefined && typeof typ !== 'string')
    throw malformed('The header typ must be a string.');
  if (header.cty !== undefined && typeof header.cty !== 'string') {
    throw malformed('The header cty must be a string.');
  }
  return {
    // Frozen to the last nested member: a verifier caches this object and hands it to every caller
    // of a token with this header, so one caller must not be able to change what the next one sees.
    header: deepFreeze(header) as JwtHeader,
    alg,
    kid,
    typ: typ === undefined ? undefined : canonicalTyp(typ),
  };
}

/**
 * Freezes a parsed JSON value and everything in it. Without recursion: a header's nesting is bounded
 * only by the token's length, which could exhaust the stack.
 */
export function deepFreeze<T extends object>(root: T): T {
  const pending: object[] = [root];
  for (let value = pending.pop(); value !== undefined; value = pending.pop()) {
    Object.freeze(value);
    for (const member of Object.values(value)) {
      if (typeof member === 'object' && member !== null) pending.push(member);
    }
  }
  return root;
}
