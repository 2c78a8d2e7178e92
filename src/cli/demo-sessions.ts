import { randomBytes } from 'node:crypto';
import { isRevocableError } from '../errors/index.js';
import { KeyRing } from '../jwt/index.js';
import { createRevocableVerifier, createRevocationIndex } from '../revocation/index.js';
import { createSessionManager } from '../sessions/index.js';
import type { Store } from '../stores/types.js';

async function settle(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return 'accepted';
  } catch (error) {
    if (isRevocableError(error)) return `refused: ${error.code}`;
    throw error;
  }
}

/**
 * The second half of `revocable demo`: sessions on a real store, each revocation refused by the
 * very next local verify. The clock is simulated so the grace window can pass without waiting.
 */
export async function runSessionsDemo(
  say: (text: string) => void,
  store: Store,
  storeName: string,
): Promise<void> {
  const clock = { t: Math.floor(Date.now() / 1000) };
  const now = () => clock.t;
  const issuer = 'https://auth.example';
  const audience = 'api';
  const keys = KeyRing.generate('EdDSA');
  const index = createRevocationIndex({ maxAccessTokenLifetime: '10m', now });
  const sessions = createSessionManager({
    store,
    // A demo makes its own; a real deployment gives every process the same one, from its secrets.
    refreshSecret: randomBytes(32),
    keys,
    index,
    issuer,
    audience,
    refreshGrace: 10,
    now,
  });
  const verifier = createRevocableVerifier({ keys, index, issuer, audience });
  const check = (token: string) => {
    try {
      const claims = verifier.verify(token);
      return `accepted (sid ${String(claims.sid).slice(0, 6)}…, sgen ${String(claims.sgen)})`;
    } catch (error) {
      if (isRevocableError(error)) {
        const rule = (error as { rule?: string }).rule;
        return `refused: ${error.code}${rule === undefined ? '' : ` (${rule})`}`;
      }
      throw error;
    }
  };

  say(`8. Sessions on ${storeName}, with a revocation index in this process's memory.`);
  const phone = await sessions.login('alice', { device: 'phone', ip: '198.51.100.7' });
  let laptop = await sessions.login('alice', { device: 'laptop', userAgent: 'Firefox' });
  say(
    `   alice logs in on her phone and her laptop: ${check(phone.accessToken)}; ${check(laptop.accessToken)}`,
  );

  const spent = laptop.refreshToken;
  laptop = await sessions.refresh(spent);
  const tab = await sessions.refresh(spent);
  say(
    `9. The laptop refreshes; a second tab sends the same (now spent) refresh token within the grace window`,
  );
  say(`   and gets the same successor: ${tab.refreshToken === laptop.refreshToken ? 'yes' : 'no'}`);
  clock.t += 30;
  say(
    `   The spent token again, 30 s later (a thief?): ${await settle(() => sessions.refresh(spent))}`,
  );
  say(`   So the laptop session is ended: its access token is ${check(laptop.accessToken)}`);

  await sessions.logout(phone.sid);
  say(
    `10. Log out on the phone: its access token, still unexpired, is ${check(phone.accessToken)}`,
  );

  const before = await sessions.login('alice', { device: 'tablet' });
  await sessions.logoutAll('alice');
  const after = await sessions.login('alice', { device: 'tablet' });
  say(`11. Log out everywhere, then log in again in the same second:`);
  say(`    old token ${check(before.accessToken)}; new token ${check(after.accessToken)}`);
  say(
    `    live sessions: ${(await sessions.listSessions('alice')).map((s) => s.device).join(', ')}`,
  );

  await sessions.ban('alice');
  say(
    `12. Ban alice: her token is ${check(after.accessToken)}; a new login is ${await settle(() => sessions.login('alice'))}`,
  );
  index.close();
}
