// RFC 7662, section 2.2: `active`, `token_type` and `username` of an introspection answer are the
// server's to say. A token signed by the server's keys whose claims use those names (this server
// issues none such, but its keys may have signed one) must not stand in for them.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createSigner } from '../../src/jwt/sign.js';
import { cleanUp, startAuthServer } from '../sync/http-source/support.js';

after(cleanUp);

describe('/oauth/introspect', () => {
  it("answers active, token_type and username of its own, whatever the token's claims say", async () => {
    const server = await startAuthServer();
    const { app, runtime } = server.running();
    const signer = createSigner({
      keys: runtime.keys.ring,
      issuer: runtime.config.issuer,
      audience: [...runtime.config.audience],
    });
    const caller = signer.sign({ sub: 'caller', sid: 'caller-session', roles: ['introspect'] });
    const introspect = async (token: string) => {
      const answer = await app.inject({
        method: 'POST',
        url: '/oauth/introspect',
        headers: { authorization: `Bearer ${caller}` },
        payload: { token },
      });
      assert.equal(answer.statusCode, 200, answer.body);
      return answer.json() as Record<string, unknown>;
    };

    const posing = signer.sign({
      sub: 'user-1',
      active: false,
      token_type: 'refresh_token',
      username: 'mallory',
      preferred_username: 'bob',
    });
    const answer = await introspect(posing);
    assert.equal(answer.active, true);
    assert.equal(answer.token_type, 'access_token');
    assert.equal(answer.username, 'bob');
    assert.equal(answer.sub, 'user-1');

    // No preferred_username: no username at all, not the token's own.
    const unnamed = await introspect(signer.sign({ sub: 'user-2', username: 'mallory' }));
    assert.equal(unnamed.active, true);
    assert.equal('username' in unnamed, false);
  });
});
