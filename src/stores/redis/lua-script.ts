import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { RevocableError } from '../../errors/revocable-error.js';
import { eventConflict } from '../internal/validate.js';

/**
 * The clients a Redis store accepts: an ioredis `Redis` (standalone, Sentinel) or `Cluster`.
 *
 * @example
 * ```ts
 * const client: RedisClient = new Cluster([{ host: 'redis-1', port: 6379 }]);
 * ```
 */
export type RedisClient = Redis | Cluster;

/** A Lua script and its SHA-1, the name Redis caches it under. */
export class LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;

  constructor(name: string, source: string) {
    this.name = name;
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/** Runs the store's scripts on one client, one round trip each. */
export type ScriptRunner = (
  script: LuaScript,
  keys: readonly string[],
  args: readonly string[],
) => Promise<unknown>;

// The errors a script raises: the keys under its prefix were written by another layout; an event
// id is in the log with another body.
const LAYOUT_ERROR = 'REVOCABLE_LAYOUT';
const CONFLICT_ERROR = 'REVOCABLE_EVENT_CONFLICT';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : '';
}

function layoutError(error: unknown, version: string): RevocableError | null {
  const message = messageOf(error);
  const at = message.indexOf(LAYOUT_ERROR);
  if (at < 0) return null;
  const found = message.slice(at + LAYOUT_ERROR.length).trim();
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `The keys under this prefix are at Redis layout version ${found}, and this revocable ` +
      `reads version ${version} only: upgrade revocable, or give the store another prefix.`,
    { cause: error },
  );
}

// A key of the store's names holding another type (a string where a hash belongs): something
// other than revocable writes under this prefix.
function foreignKeys(error: unknown): RevocableError | null {
  const message = messageOf(error);
  if (!message.includes('WRONGTYPE')) return null;
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    "Keys under this prefix are not revocable's (a key holds another type than the store " +
      'writes): give the store a prefix of its own.',
    { cause: error },
  );
}

/**
 * A runner for `client`. The first call of a script in this process sends it whole (EVAL, which
 * also caches it on the server); later calls send only its SHA-1 (EVALSHA). A server that has
 * forgotten it (restarted, failed over, SCRIPT FLUSH) answers NOSCRIPT without running anything,
 * and the script is sent whole once more: only then does a call take a second round trip.
 *
 * Calls after the first may overtake nothing: ioredis sends the commands of one connection in
 * order, so the EVAL reaches the server before any EVALSHA that follows it.
 */
export function createScriptRunner(client: RedisClient, version: string): ScriptRunner {
  const sent = new Set<LuaScript>();
  // The arguments go as one array, which ioredis flattens into the command: spread into the call
  // they would be one JavaScript argument each, and a ban of 100,000 sessions overflows the stack.
  const evalScript = (script: LuaScript, argv: string[], count: number) =>
    client.eval(script.source, count, argv);

  async function send(script: LuaScript, keys: readonly string[], args: readonly string[]) {
    const argv = [...keys, ...args];
    if (!sent.has(script)) {
      sent.add(script);
      return evalScript(script, argv, keys.length);
    }
    try {
      return await client.evalsha(script.sha, keys.length, argv);
    } catch (error) {
      if (!messageOf(error).startsWith('NOSCRIPT')) throw error;
      return evalScript(script, argv, keys.length);
    }
  }

  return async (script, keys, args) => {
    try {
      return await send(script, keys, args);
    } catch (error) {
      if (messageOf(error).includes(CONFLICT_ERROR)) throw eventConflict();
      throw layoutError(error, version) ?? foreignKeys(error) ?? error;
    }
  };
}
