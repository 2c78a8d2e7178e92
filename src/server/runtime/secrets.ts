import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RevocableError } from '../../errors/revocable-error.js';
import { keysSecretBytes } from '../../jwt/sealed-key-ring.js';

/** The file of the data directory that keeps a single server's generated keys secret. */
export const SECRET_FILE = 'keys-secret';

/**
 * Every secret the processes of a deployment must share, derived from the one secret they are
 * given: a cluster then needs no secret but `REVOCABLE_KEYS_SECRET`, and two processes can never
 * disagree on, say, the refresh secret (which would turn concurrent refreshes into theft).
 */
export interface DerivedSecrets {
  /** Seals the shared key ring in the store (the keys secret itself). */
  readonly keysSecret: Buffer;
  /** Derives each refresh token's successor (the session manager's `refreshSecret`). */
  readonly refreshSecret: Buffer;
  /** Makes and checks the CSRF tokens of cookie mode. */
  readonly csrfKey: Buffer;
}

// Separate keys for separate jobs (HKDF's `info`): a leak or a misuse of one tells nothing of the
// others, and the keys secret is never used directly as an HMAC key.
function derive(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `revocable ${purpose} v1`, 32));
}

/** The secrets of a deployment, derived from its keys secret. */
export function deriveSecrets(keysSecret: string | Uint8Array): DerivedSecrets {
  const master = keysSecretBytes(keysSecret);
  return {
    keysSecret: master,
    refreshSecret: derive(master, 'refresh tokens'),
    csrfKey: derive(master, 'csrf tokens'),
  };
}

/**
 * A single server's keys secret: the one it was given, or the one kept in its data directory,
 * made on first start in a file only its owner can read. It is what seals the key ring in the
 * SQLite database: the database alone does not give the private keys away.
 */
export function loadOrCreateKeysSecret(dataDir: string, given: string | null): string {
  if (given !== null) return given;
  const path = join(dataDir, SECRET_FILE);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(path, error);
  }
  const secret = randomBytes(32).toString('base64url');
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // `wx`: of two servers started at once on one directory, one writes and the other reads it.
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return readFileSync(path, 'utf8').trim();
    }
    throw unreadable(path, error);
  }
}

function unreadable(path: string, error: unknown): RevocableError {
  const reason = error instanceof Error ? error.message : String(error);
  return new RevocableError(
    'ERR_SERVER_CONFIG',
    `Could not read or create the keys secret file ${path}: ${reason}.`,
    { cause: error },
  );
}
