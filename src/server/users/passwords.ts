import { randomBytes } from 'node:crypto';
import type * as Argon2 from '@node-rs/argon2';
import { loadDriver } from '../../stores/internal/driver-errors.js';

/**
 * Password hashing with argon2id (`@node-rs/argon2`, an optional peer dependency loaded at the
 * first hash or verify).
 *
 * @module
 */

/**
 * How accounts hash and verify passwords: the argon2id functions below by default; a test can
 * count the calls through its own. It sees passwords as the accounts pass them on, in their NFKC
 * form (see normalize.ts), and need not normalise anything itself.
 *
 * @example
 * ```ts
 * const passwords: PasswordHasher = { hash: hashPassword, verify: verifyPassword };
 * ```
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True when the password matches; false (never a throw) for a wrong password or a bad hash. */
  verify(hash: string, password: string): Promise<boolean>;
}

/**
 * OWASP's argon2id parameters (Password Storage Cheat Sheet): 19 MiB, 2 passes, one lane. About
 * 10 to 20 ms of one core per hash or verify, in the library's own thread pool, off the event
 * loop.
 */
export const ARGON2_PARAMETERS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
// Algorithm.Argon2id: a const enum, which isolated modules cannot read from the declarations.
const ARGON2ID = 2 as Argon2.Algorithm;

function argon2(): typeof Argon2 {
  return loadDriver<typeof Argon2>({ name: '@node-rs/argon2', subpath: 'The revocable server' });
}

/**
 * Hashes a password with argon2id and a fresh random salt, as a PHC string
 * (`$argon2id$v=19$m=19456,t=2,p=1$...`) that carries its parameters, so parameters can be raised
 * later without breaking older hashes. Check the policy first (`checkPassword`), and normalise
 * (`normalizePassword`, as the accounts do): this hashes whatever string it gets, exactly.
 *
 * @example
 * ```ts
 * const passwordHash = await hashPassword('correct horse battery staple');
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  return argon2().hash(password, { ...ARGON2_PARAMETERS, algorithm: ARGON2ID });
}

/**
 * Whether `password` matches `hash`, in constant time (the library compares the digests so). A
 * malformed hash or a value of the wrong type is false, never a throw: a row damaged by hand must
 * fail one login, not answer 500. A missing `@node-rs/argon2` does throw (`ERR_DRIVER_MISSING`):
 * a server unable to verify must say so rather than refuse every password.
 *
 * @example
 * ```ts
 * if (!(await verifyPassword(user.passwordHash, password))) throw loginFailed();
 * ```
 */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  const library = argon2();
  if (typeof hash !== 'string' || typeof password !== 'string') return false;
  try {
    return await library.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * A function that makes, once and at its first call, the hash a login of an unknown user is
 * verified against: of a random password nobody knows, with `hash` itself, so the same parameters
 * and so the same cost as a real user's verify. A failed attempt is forgotten, so the next call
 * tries again.
 *
 * @example
 * ```ts
 * const dummy = createDummyHash(hashPassword);
 * await verifyPassword(user?.passwordHash ?? (await dummy()), password);
 * ```
 */
export function createDummyHash(
  hash: (password: string) => Promise<string>,
): () => Promise<string> {
  let made: Promise<string> | undefined;
  return () => {
    made ??= hash(randomBytes(32).toString('base64url')).catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
}

/**
 * The dummy hash of the argon2id hasher, made once per process (at its first call) and shared by
 * every accounts object that uses {@link ARGON2_PASSWORDS}.
 *
 * @example
 * ```ts
 * const hash = await dummyPasswordHash(); // '$argon2id$v=19$m=19456,t=2,p=1$...'
 * ```
 */
export const dummyPasswordHash: () => Promise<string> = createDummyHash(hashPassword);

/** The argon2id hasher: {@link hashPassword} and {@link verifyPassword}. */
export const ARGON2_PASSWORDS: PasswordHasher = { hash: hashPassword, verify: verifyPassword };
