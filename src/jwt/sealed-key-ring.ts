import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { RevocableError } from '../errors/revocable-error.js';
import { isBase64Url } from './base64url.js';
import { KeyRing } from './key-ring.js';

/** The environment variable a cluster reads the key-ring secret from. */
export const KEYS_SECRET_VARIABLE = 'REVOCABLE_KEYS_SECRET';

/** The shortest secret accepted, in bytes: AES-256 wants 256 bits of key, so HKDF needs as much in. */
export const MIN_KEYS_SECRET_BYTES = 32;

// Fixed strings, each carrying the format version: a future format derives another key from the
// same secret, so no ciphertext of one version can be read as another.
const FORMAT = 'revocable.keyring.v1';
const HKDF_SALT = 'revocable/key-ring/v1/salt';
const HKDF_INFO = 'revocable/key-ring/v1/aes-256-gcm';
const PURPOSE = 'revocable key ring';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Options for {@link sealKeyRing} and {@link unsealKeyRing}. */
export interface SealOptions {
  /**
   * A number bound to the sealed text (authenticated, not secret), default 0. A store's revision
   * goes here, so that a sealed ring copied over a newer one under another revision is refused.
   */
  revision?: number;
}

function secretError(message: string): RevocableError {
  return new RevocableError(
    'ERR_KEYS_SECRET',
    `${message} Set ${KEYS_SECRET_VARIABLE} to the same secret of at least ` +
      `${MIN_KEYS_SECRET_BYTES} bytes in every process, for example the output of ` +
      '`openssl rand -base64 32`, kept in your secret manager.',
  );
}

/**
 * Checks the key-ring secret and returns its bytes (a string counts as its UTF-8 bytes, so a
 * base64 text works as it is). The messages never repeat the value, only what is wrong with it.
 * Internal to revocable.
 */
export function keysSecretBytes(secret: unknown): Buffer {
  if (secret === undefined || secret === null || secret === '') {
    throw secretError('The key ring secret is missing.');
  }
  let bytes: Buffer;
  if (typeof secret === 'string') bytes = Buffer.from(secret, 'utf8');
  else if (secret instanceof Uint8Array) bytes = Buffer.from(secret);
  else throw secretError('The key ring secret must be a string or bytes.');
  if (bytes.length < MIN_KEYS_SECRET_BYTES) {
    throw secretError(`The key ring secret is shorter than ${MIN_KEYS_SECRET_BYTES} bytes.`);
  }
  return bytes;
}

function checkRevision(revision: unknown): number {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      'revision must be a non-negative safe integer.',
    );
  }
  return revision;
}

function deriveKey(secret: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO, 32));
}

// The associated data: what the ciphertext is (format and purpose) and which revision it is.
function associatedData(revision: number): Buffer {
  return Buffer.from(`${FORMAT}\n${PURPOSE}\nrevision=${revision}`, 'utf8');
}

/**
 * Encrypts a key ring document (`ring.toJSON()`, private keys included) for a store: AES-256-GCM
 * under a key derived from `secret` with HKDF-SHA256, a fresh random 96-bit IV each time, and the
 * format version, purpose and `revision` authenticated as associated data. The result is ASCII:
 * `revocable.keyring.v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 *
 * Throws `ERR_KEYS_SECRET` when the secret is missing or shorter than 32 bytes.
 *
 * @example
 * ```ts
 * const sealed = sealKeyRing(ring, process.env.REVOCABLE_KEYS_SECRET);
 * const same = unsealKeyRing(sealed, process.env.REVOCABLE_KEYS_SECRET);
 * ```
 */
export function sealKeyRing(
  ring: KeyRing,
  secret: string | Uint8Array | undefined,
  options: SealOptions = {},
): string {
  const key = deriveKey(keysSecretBytes(secret));
  const revision = checkRevision(options.revision ?? 0);
  if (!(ring instanceof KeyRing)) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'sealKeyRing needs a KeyRing.');
  }
  const plaintext = Buffer.from(JSON.stringify(ring.toJSON()), 'utf8');
  const iv = randomBytes(IV_BYTES);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(revision));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      FORMAT,
      iv.toString('base64url'),
      ciphertext.toString('base64url'),
      tag.toString('base64url'),
    ].join('.');
  } finally {
    // The JSON text itself cannot be wiped (strings are immutable); the buffers can.
    plaintext.fill(0);
    key.fill(0);
  }
}

function sealedInvalid(message: string, cause?: unknown): RevocableError {
  return new RevocableError(
    'ERR_KEYRING_SEALED_INVALID',
    message,
    cause === undefined ? undefined : { cause },
  );
}

function decodePart(part: string | undefined, bytes?: number): Buffer {
  if (part === undefined || part.length === 0 || !isBase64Url(part)) {
    throw sealedInvalid('The sealed key ring is not in the revocable.keyring.v1 format.');
  }
  const decoded = Buffer.from(part, 'base64url');
  if (bytes !== undefined && decoded.length !== bytes) {
    throw sealedInvalid('The sealed key ring is not in the revocable.keyring.v1 format.');
  }
  return decoded;
}

/**
 * Decrypts and reads what {@link sealKeyRing} made, with the same secret and revision. A wrong
 * secret, a different revision, any altered byte, a truncated tag or an unknown format is refused
 * with `ERR_KEYRING_SEALED_INVALID` before anything is read: no partial ring comes out. A missing
 * or short secret is `ERR_KEYS_SECRET`.
 *
 * @example
 * ```ts
 * const row = await keyRingStore.load();
 * if (row !== null) ring = unsealKeyRing(row.sealed, secret, { revision: row.revision });
 * ```
 */
export function unsealKeyRing(
  sealed: string,
  secret: string | Uint8Array | undefined,
  options: SealOptions & { now?: () => number } = {},
): KeyRing {
  const key = deriveKey(keysSecretBytes(secret));
  const revision = checkRevision(options.revision ?? 0);
  if (typeof sealed !== 'string') throw sealedInvalid('A sealed key ring is a string.');
  const parts = sealed.split('.');
  if (parts.length !== 6 || parts.slice(0, 3).join('.') !== FORMAT) {
    throw sealedInvalid(
      'The sealed key ring is not in the revocable.keyring.v1 format (another version of revocable, or not a sealed ring).',
    );
  }
  const iv = decodePart(parts[3], IV_BYTES);
  const ciphertext = decodePart(parts[4]);
  const tag = decodePart(parts[5], TAG_BYTES);
  let plaintext: Buffer;
  try {
    // authTagLength pins the tag to 16 bytes: without it Node accepts a shorter tag, which is
    // easier to forge.
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(revision));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (error) {
    throw sealedInvalid(
      'The sealed key ring does not decrypt: the secret is not the one it was sealed with, or it was altered.',
      error,
    );
  } finally {
    key.fill(0);
  }
  let document: unknown;
  try {
    document = JSON.parse(plaintext.toString('utf8'));
  } catch {
    // No cause: JSON.parse's message quotes the text around the fault, which is key material.
    throw sealedInvalid('The sealed key ring decrypts but is not JSON.');
  } finally {
    plaintext.fill(0);
  }
  try {
    return KeyRing.fromJSON(document, options.now === undefined ? {} : { now: options.now });
  } catch (error) {
    // Authenticated yet unreadable: written by a revocable with other ring rules. Only revocable's
    // own errors are kept as the cause: they name a rule, never key material.
    throw sealedInvalid(
      'The sealed key ring decrypts but is not a valid key ring.',
      error instanceof RevocableError ? error : undefined,
    );
  }
}
