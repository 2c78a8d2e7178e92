import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRevocableError } from '../errors/index.js';
import {
  createSigner,
  createVerifier,
  decodeUnverified,
  KeyRing,
  type Verifier,
} from '../jwt/index.js';
import { createMemoryStore } from '../stores/memory-store.js';
import type { Store } from '../stores/types.js';
import { runSessionsDemo } from './demo-sessions.js';
import type { CliIo } from './io.js';

/** What `revocable demo` does, for the help text. */
export const DEMO_SUMMARY = 'Walk through signing, verifying, rotating and retiring keys';

function outcome(verifier: Verifier, token: string): string {
  try {
    const claims = verifier.verify(token);
    return `accepted (sub ${String(claims.sub)})`;
  } catch (error) {
    if (isRevocableError(error)) return `refused: ${error.code}`;
    throw error;
  }
}

/**
 * A short, self-contained walkthrough on in-memory keys: what a newcomer runs first (`npm start`).
 * Nothing is written to disk and no secret is printed.
 *
 * @example
 * ```ts
 * await runDemo(createNodeIo());
 * ```
 */
export async function runDemo(io: CliIo): Promise<number> {
  const say = (text: string) => io.stdout(`${text}\n`);
  const issuer = 'https://auth.example';
  const audience = 'api';
  const ring = KeyRing.generate('EdDSA');
  const first = ring.active;
  say(`1. A key ring with one active EdDSA key (kid ${first.kid}).`);

  const signer = createSigner({ keys: ring, issuer, audience, ttl: '10m' });
  const token = signer.sign({ sub: 'user-1', role: 'player' });
  const { header, claims } = decodeUnverified(token);
  say(`2. An access token, ${token.length} characters. Header ${JSON.stringify(header)}`);
  say(`   claims ${JSON.stringify(claims)}`);

  const verifier = createVerifier({ keys: ring, issuer, audience });
  say(`3. Verified locally and synchronously: ${outcome(verifier, token)}`);

  const [head = '', body = '', signature = ''] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
  say(
    `4. The same token with sub changed to admin: ${outcome(verifier, `${head}.${forged}.${signature}`)}`,
  );
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
  say(`   An alg "none" token: ${outcome(verifier, `${none}.${body}.`)}`);
  const refreshTyp = createSigner({ keys: ring, issuer, audience, typ: 'refresh+jwt' }).sign({
    sub: 'user-1',
  });
  say(`   A token of another typ posing as an access token: ${outcome(verifier, refreshTyp)}`);

  const second = ring.rotate();
  const fresh = signer.sign({ sub: 'user-2' });
  say(`5. Rotation: kid ${second.kid} signs now, ${first.kid} only verifies.`);
  say(`   old token: ${outcome(verifier, token)}; new token: ${outcome(verifier, fresh)}`);

  const resourceServer = createVerifier({ keys: KeyRing.fromJSON(ring.jwks()), issuer, audience });
  say(
    `6. A resource server holding only the public JWKS (${ring.jwks().keys.length} keys): ${outcome(resourceServer, fresh)}`,
  );

  ring.retire(first.kid);
  say(
    `7. Key ${first.kid} leaked and is retired: old token ${outcome(verifier, token)}; new token ${outcome(verifier, fresh)}`,
  );
  say('');
  const { store, name, close } = await demoStore();
  try {
    await runSessionsDemo(say, store, name);
  } finally {
    await close();
  }
  say('');
  // npx finds the command both in this repository and where revocable is installed.
  say('Next: npx revocable --help (keys generate, token sign, token verify, ...).');
  return 0;
}

// SQLite in a temporary file when better-sqlite3 is installed (it is an optional peer dependency),
// the memory store otherwise.
async function demoStore(): Promise<{ store: Store; name: string; close(): Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), 'revocable-demo-'));
  const cleanup = () => rmSync(directory, { recursive: true, force: true });
  try {
    const sqlite = await import('../stores/sqlite/index.js');
    const database = sqlite.openSqliteDatabase(join(directory, 'demo.db'));
    return {
      store: sqlite.createSqliteStore({ database }),
      name: 'SQLite (a temporary file)',
      close: async () => {
        database.close();
        cleanup();
      },
    };
  } catch (error) {
    cleanup();
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return { store: createMemoryStore(), name: 'the memory store', close: async () => {} };
  }
}
