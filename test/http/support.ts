// What the middleware tests share: an auth side (a key ring, a session manager on the memory
// store) and a resource side (the public keys, a revocation index), as a resource server has them.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  createServer,
  request as httpRequest,
  type OutgoingHttpHeaders,
  type RequestListener,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyRing } from '../../src/jwt/index.js';
import { createRevocationIndex, type RevocationIndex } from '../../src/revocation/index.js';
import {
  createSessionManager,
  type SessionManager,
  type SessionManagerOptions,
} from '../../src/sessions/index.js';
import { createMemoryStore } from '../../src/stores/memory-store.js';
import type { Store } from '../../src/stores/types.js';

export const ISSUER = 'https://auth.example';
export const AUDIENCE = 'api';

export interface World {
  /** The auth server's private ring. */
  readonly authRing: KeyRing;
  /** The resource server's ring: the public keys, read from the JWKS. */
  readonly ring: KeyRing;
  readonly index: RevocationIndex;
  readonly store: Store;
  readonly sessions: SessionManager;
  /** Signs in `sub` with application claims; returns the access token and the session id. */
  login(
    sub: string,
    claims?: Record<string, unknown>,
    authTime?: number,
  ): Promise<{ token: string; sid: string }>;
}

/** A fresh auth side and resource side. The index is shared, as in one process with no bus. */
export function newWorld(sessionOptions: Partial<SessionManagerOptions> = {}): World {
  const authRing = KeyRing.generate('EdDSA');
  const ring = KeyRing.fromJSON(authRing.jwks());
  const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
  const store = createMemoryStore();
  const sessions = createSessionManager({
    store,
    keys: authRing,
    index,
    issuer: ISSUER,
    audience: AUDIENCE,
    ...sessionOptions,
  });
  return {
    authRing,
    ring,
    index,
    store,
    sessions,
    async login(sub, claims, authTime) {
      const pair = await sessions.login(sub, {
        ...(claims === undefined ? {} : { claims }),
        ...(authTime === undefined ? {} : { authTime }),
      });
      return { token: pair.accessToken, sid: pair.sid };
    },
  };
}

/** The guard options of a resource server of this world (no staleness bound unless given). */
export function keyOptions(world: World) {
  return { keys: world.ring, index: world.index, issuer: ISSUER, audience: AUDIENCE } as const;
}

/** The hex SHA-256 of a fingerprint, the `fgp` claim that binds a token to it. */
export function fingerprintHash(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('hex');
}

/** A token string of the given size that passes the bearer rule but is no JWT. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** An answer as a test reads it. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Record<string, unknown>;
}

/**
 * Sends a request with exactly these headers (node:http, not fetch: fetch would refuse or rewrite
 * some of the malformed ones the tests send) and reads the JSON answer.
 */
export function send(
  base: string,
  path: string,
  headers: OutgoingHttpHeaders = {},
  method = 'GET',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(new URL(path, base), { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { text };
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/** Listens on a free loopback port; resolves to the base URL and a close function. */
export async function listen(
  handler: RequestListener,
): Promise<{ base: string; close: () => Promise<void> }> {
  // Big enough for the 20 KB header test: Node.js answers 431 by itself past 16 KB by default.
  // Repeated Authorization headers are joined, so the guard sees (and refuses) both.
  const server = createServer({ maxHeaderSize: 64 * 1024, joinDuplicateHeaders: true }, handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
