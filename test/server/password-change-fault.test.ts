// A password change is two writes: the new password, and the end of the user's other sessions. A
// fault between them must leave the old password with the sessions ended (the client sends the
// change again), never the new password with the other sessions alive: the old password could no
// longer send it again, and a thief's session, the reason for most password changes, would live
// on. The fault here is a trigger that makes PostgreSQL refuse the sessions' cut-off (the
// subject's generation), deterministic where a cut connection is a matter of timing.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { skipIfMissing } from '../support/services.js';
import {
  accepted,
  assertRefused,
  deployment,
  login,
  newName,
  openClusterServices,
  PASSWORD,
  refresh,
  register,
  seen,
} from './cluster-support.js';
import { call, removeDataDirs } from './server-process.js';

const services = await openClusterServices();
after(async () => {
  await services.cleanup();
  removeDataDirs();
});

const NEW_PASSWORD = 'a new password, long enough';

describe('a password change that fails halfway', () => {
  it('keeps the old password when the other sessions cannot be ended, and ends them when sent again', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const cluster = deployment(services, { redis: false });
    const schema = cluster.env.REVOCABLE_PG_SCHEMA as string;
    const server = await cluster.start();
    t.after(() => server.stop());
    const username = newName('changer');
    await register(server.url, username);
    const mine = await login(server.url, username);
    const thief = await login(server.url, username);

    const trigger = `"${schema}".revocable_fault_injected`;
    await services.pool.query(
      `CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS
         $$ BEGIN RAISE EXCEPTION 'fault injected by the test'; END $$`,
    );
    await services.pool.query(
      `CREATE TRIGGER fault BEFORE INSERT OR UPDATE ON "${schema}".revocable_subjects
         FOR EACH ROW EXECUTE FUNCTION ${trigger}()`,
    );
    const failed = await call(server.url, 'POST', '/auth/password', {
      token: mine.access_token,
      json: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    await services.pool.query(`DROP TRIGGER fault ON "${schema}".revocable_subjects`);
    assert.ok(failed.status >= 500, JSON.stringify(failed.body));
    assert.equal(typeof failed.body.error, 'string');

    // The password is the old one still: the new one is refused, the old one signs in.
    assertRefused(
      await call(server.url, 'POST', '/auth/login', {
        json: { username, password: NEW_PASSWORD },
      }),
      401,
      'ERR_LOGIN_FAILED',
    );
    await login(server.url, username);
    // So the client can send the change again, and this time every other session ends.
    const changed = await call(server.url, 'POST', '/auth/password', {
      token: mine.access_token,
      json: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assertRefused(
      await call(server.url, 'POST', '/auth/refresh', {
        json: { refresh_token: thief.refresh_token },
      }),
      401,
      'ERR_SESSION_REVOKED',
    );
    await seen('the thief access token refused', async () =>
      assertRefused(
        await call(server.url, 'GET', '/auth/me', { token: thief.access_token }),
        401,
        'ERR_TOKEN_REVOKED',
      ),
    );
    // This session lives on, with the access token of the answer.
    await accepted(server.url, changed.body.access_token as string);
    await refresh(server.url, mine.refresh_token);
    await login(server.url, username, NEW_PASSWORD);
  });
});
