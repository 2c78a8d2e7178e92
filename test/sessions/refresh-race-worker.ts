// One of two OS processes refreshing the same refresh token at the same moment through their own
// session manager (sharing the store and the refresh secret, as processes of one deployment do).
// Prints the outcomes: the successor refresh token, or the error code.
import { Redis } from 'ioredis';
import pg from 'pg';
import { isRevocableError } from '../../src/errors/index.js';
import { KeyRing } from '../../src/jwt/index.js';
import { createRevocationIndex } from '../../src/revocation/index.js';
import { createSessionManager } from '../../src/sessions/index.js';
import { createPostgresStore } from '../../src/stores/postgres/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import type { Store } from '../../src/stores/types.js';

const [kind, url, namespace, secret, token, startAt] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
let store: Store;
let close: () => Promise<void>;
if (kind === 'postgres') {
  const pool = new pg.Pool({ connectionString: url, max: 25 });
  await Promise.all(Array.from({ length: 10 }, () => pool.query('SELECT 1')));
  store = createPostgresStore({ client: pool, schema: namespace });
  close = () => pool.end();
} else {
  const client = new Redis(url);
  await client.ping();
  store = createRedisStore({ client, prefix: namespace });
  close = async () => client.disconnect();
}
const manager = createSessionManager({
  store,
  keys: KeyRing.generate('HS256'),
  index: createRevocationIndex({ maxAccessTokenLifetime: '10m' }),
  issuer: 'https://auth.test',
  audience: 'api',
  refreshSecret: secret,
});
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const outcomes = await Promise.all(
  Array.from({ length: 25 }, async () => {
    try {
      return (await manager.refresh(token)).refreshToken;
    } catch (error) {
      return isRevocableError(error) ? error.code : String(error);
    }
  }),
);
process.stdout.write(JSON.stringify(outcomes));
await close();
