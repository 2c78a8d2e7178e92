// A second OS process for the PostgreSQL race tests. Arguments: the database URL and the schema.
// It opens its connections first and says `ready`; then it reads one line of JSON from stdin (the
// parent sends it to every worker at once, which is the start signal), fires every operation in it
// at the same moment, prints their outcomes as one line of JSON, and exits.
import { createInterface } from 'node:readline';
import pg from 'pg';
import { isRevocableError } from '../../src/errors/index.js';
import type { RevocationEvent } from '../../src/revocation/index.js';
import { createPostgresStore } from '../../src/stores/postgres/index.js';
import type { RefreshRotation, SessionRecord } from '../../src/stores/types.js';

/** One operation a worker runs: a store call and its arguments. */
export type RaceOperation =
  | { kind: 'rotate'; sid: string; expected: string; gen: number; next: RefreshRotation }
  | { kind: 'revoke'; sid: string; at: number; reason: string; events: RevocationEvent[] }
  | { kind: 'bump'; sub: string; claims: Record<string, unknown> }
  | { kind: 'revokeAll'; at: number; events: RevocationEvent[] }
  | { kind: 'create'; session: SessionRecord; gen: number }
  | { kind: 'append'; events: RevocationEvent[] };

/**
 * What a worker prints for each operation: a rotation's outcome, the sids a revocation ended, the
 * generation a bump made, a creation's outcome, `done` for calls that return nothing, or the code
 * of the RevocableError the call threw.
 */
export type RaceOutcome =
  | { status: string; gen?: number }
  | { revoked: string[] }
  | { gen: number }
  | { created: boolean; reason?: string }
  | { done: true }
  | { error: string };

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

async function perform(operation: RaceOperation): Promise<RaceOutcome> {
  switch (operation.kind) {
    case 'rotate':
      return store.rotateRefresh(operation.sid, operation.expected, operation.gen, operation.next);
    case 'revoke':
      return {
        revoked: await store.revokeSessions(
          [operation.sid],
          operation.at,
          operation.reason,
          operation.events,
        ),
      };
    case 'bump':
      return { gen: await store.bumpGeneration(operation.sub, operation.claims) };
    case 'revokeAll':
      await store.revokeAll(operation.at, operation.events);
      return { done: true };
    case 'create':
      return store.createSession(operation.session, operation.gen);
    case 'append':
      await store.appendEvents(operation.events);
      return { done: true };
  }
}

const operations = JSON.parse(line) as RaceOperation[];
const outcomes: RaceOutcome[] = await Promise.all(
  operations.map(async (operation) => {
    try {
      return await perform(operation);
    } catch (error) {
      // A RevocableError is an outcome the parent judges; anything else ends the worker.
      if (isRevocableError(error)) return { error: error.code };
      throw error;
    }
  }),
);
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
await pool.end();
