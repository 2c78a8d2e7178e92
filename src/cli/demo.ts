import { isRevocableError } from '../errors/index.js';
import {
  createSigner,
  createVerifier,
  decodeUnverified,
  KeyRing,
  type Verifier,
} from '../jwt/index.js';
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
 * runDemo(createNodeIo());
 * ```
 */
export function runDemo(io: CliIo): number {
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
  say('Next: revocable --help (keys generate, token sign, token verify, ...).');
  return 0;
}
