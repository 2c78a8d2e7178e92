// A second OS process for the PostgreSQL race tests. Arguments: the database URL and the schema.
// It opens its connections first and says `ready`; then it reads one line of JSON from stdin (the
// parent sends it to every worker at once, which is the start signal), fires every operation in it
// at the same moment, prints their outcomes as one line of JSON, and exits.
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { RevocationEvent } from '../../src/revocation/index.js';
import { createPostgresStore } from '../../src/stores/postgres/index.js';
import type { RefreshRotation } from '../../src/stores/types.js';

/** One operation a worker runs. */
export type RaceOperation =
  | { kind: 'rotate'; sid: string; expected: string; next: RefreshRotation }
  | { kind: 'revoke'; sid: string; at: number; reason: string; events: RevocationEvent[] };

/** What a worker prints for each operation: a rotation's status or the sids a revocation ended. */
export type RaceOutcome = { status: string } | { revoked: string[] };

const [url, schema] = process.argv.slice(2);
const CONNECTIONS = 25;
const pool = new pg.Pool({ connectionString: url, max: CONNECTIONS });
const store = createPostgresStore({ client: pool, schema: schema ?? '' });
// Concurrent queries make the pool open every connection now, not during the race.
await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.query('SELECT 1')));
process.stdout.write('ready\n');

const line = await new Promise<string>((resolve) => {
  const lines = createInterface({ input: process.stdin });
  lines.once('line', (text) => {
    lines.close();
    // Nothing more is read: an open stdin would keep this process alive.
    process.stdin.destroy();
    resolve(text);
  });
});
const operations = JSON.parse(line) as RaceOperation[];
const outcomes: RaceOutcome[] = await Promise.all(
  operations.map(async (operation): Promise<RaceOutcome> => {
    if (operation.kind === 'rotate') {
      const outcome = await store.rotateRefresh(operation.sid, operation.expected, operation.next);
      return { status: outcome.status };
    }
    const revoked = await store.revokeSessions(
      [operation.sid],
      operation.at,
      operation.reason,
      operation.events,
    );
    return { revoked };
  }),
);
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
await pool.end();
