import { RevocableError } from '../../errors/revocable-error.js';
import { invalidArgument } from './scalars.js';

/**
 * The longest sealed ring a store accepts, in characters: a full ring of 100 RSA-4096 keys seals
 * to about 450,000; the bound keeps a runaway caller from filling a row or a Redis key.
 */
export const MAX_SEALED_KEY_RING_LENGTH = 4_000_000;

/** The checks every key ring store runs before a save, so that all refuse the same inputs. */
export function assertKeyRingSave(expectedRevision: unknown, sealed: unknown): void {
  if (
    typeof expectedRevision !== 'number' ||
    !Number.isSafeInteger(expectedRevision) ||
    expectedRevision < 0
  ) {
    throw invalidArgument('expectedRevision must be a non-negative safe integer.');
  }
  // ASCII only: what sealKeyRing makes is, and every backend then stores it byte for byte.
  if (
    typeof sealed !== 'string' ||
    sealed.length === 0 ||
    sealed.length > MAX_SEALED_KEY_RING_LENGTH ||
    !/^[\x21-\x7e]+$/.test(sealed)
  ) {
    throw invalidArgument(
      `sealed must be a sealed key ring: printable ASCII, at most ${MAX_SEALED_KEY_RING_LENGTH} characters.`,
    );
  }
}

/** Reads a revision a backend returned (a number, or a decimal string from Redis or pg). */
export function revisionOf(value: unknown): number {
  const revision = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 1) {
    throw new RevocableError(
      'ERR_STORE_SCHEMA',
      'The stored key ring revision is not a positive integer: these keys were not written by revocable.',
    );
  }
  return revision;
}
