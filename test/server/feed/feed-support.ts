// What the feed tests share: a clock the test moves, the stores to run against (memory and
// SQLite), a store that fails or holds reads when the test says, a subscriber that records what
// it receives, and a node:http server that serves the stream.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRevocableError } from '../../../src/errors/index.js';
import {
  createRevocationIndex,
  createTokenRevocation,
  type RevocationEvent,
} from '../../../src/revocation/index.js';
import type { RevocationIndex } from '../../../src/revocation/types.js';
import {
  createRevocationFeed,
  type FeedHeartbeat,
  type RevocationFeed,
  type RevocationFeedOptions,
  type RevocationStream,
  type RevocationStreamOptions,
  writeRevocationStream,
} from '../../../src/server/feed/index.js';
import { createMemoryStore, type Store, type StoredEvent } from '../../../src/stores/index.js';
import { createSqliteStore } from '../../../src/stores/sqlite/index.js';
import { openSqliteDatabase } from '../../stores/sqlite-support.js';

export const T0 = 1_900_000_000;

/**
 * Resolves once `condition` holds, checking on every turn of the event loop; throws after
 * `timeoutMs` (a limit only a broken build reaches) with `what` in the message.
 */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const cleanups: Array<() => unknown> = [];

/**
 * Closes every server, feed and store the last test opened, whether it passed or not (a test
 * that fails half-way must not leave a server that keeps the process alive): `afterEach`.
 */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}
export const TIMING = { maxAccessTokenLifetime: 600, clockSkew: 5 };

/** A clock the test moves, and an index on it. */
export function world(): { clock: { t: number }; now: () => number; index: RevocationIndex } {
  const clock = { t: T0 };
  const now = () => clock.t;
  return { clock, now, index: createRevocationIndex({ ...TIMING, now }) };
}

/** `count` token revocations, live for ten minutes; `pad` lengthens their targets. */
export function tokenEvents(count: number, at: number, pad = 0): RevocationEvent[] {
  const prefix = 'j'.repeat(pad);
  return Array.from({ length: count }, () =>
    createTokenRevocation({
      jti: `${prefix}${Math.random().toString(36).slice(2)}`,
      exp: at + 600,
      at,
    }),
  );
}

export interface StoreKind {
  readonly name: string;
  open(): { store: Store; close(): void };
}

const directory = mkdtempSync(join(tmpdir(), 'revocable-feed-'));
let files = 0;
process.on('exit', () => rmSync(directory, { recursive: true, force: true }));

export const STORE_KINDS: readonly StoreKind[] = [
  { name: 'memory store', open: () => ({ store: createMemoryStore(), close() {} }) },
  {
    name: 'SQLite store',
    open() {
      files += 1;
      const database = openSqliteDatabase(join(directory, `feed-${files}.db`));
      const close = () => {
        if (database.open) database.close();
      };
      cleanups.push(close);
      return { store: createSqliteStore({ database }), close };
    },
  },
];

/**
 * A store whose reads fail while `failing` is set, and whose reads after a position in `hold` wait
 * for the test: `before` reads the log first and then waits (the page is stale when it comes),
 * `after` waits first and then reads (the page may reach past what the feed's reader has read).
 * While `holdBelow` is set, every read after a position below it waits for the test too (then
 * reads), so that backlog reads can be held while the feed's reader, at the head, is not.
 */
export function controlledStore(store: Store) {
  const held: Array<() => void> = [];
  const control = {
    failing: false,
    hold: null as { after: number; mode: 'before' | 'after' } | null,
    holdBelow: null as number | null,
    reads: [] as number[],
    /** The `limit` of each read, in the order of `reads`. */
    limits: [] as number[],
    /** Reads called and not yet answered, and the most there were at once. */
    inFlight: 0,
    mostInFlight: 0,
    /** The reads waiting for the test. */
    held: () => held.length,
    release() {
      for (const go of held.splice(0)) go();
    },
  };
  const wait = () => new Promise<void>((resolve) => held.push(resolve));
  async function read(after: number, limit: number): Promise<StoredEvent[]> {
    if (control.failing) throw new Error('the store is down');
    if (control.holdBelow !== null && after < control.holdBelow) {
      await wait();
      return store.readEvents(after, limit);
    }
    const hold = control.hold;
    if (hold === null || hold.after !== after) return store.readEvents(after, limit);
    control.hold = null;
    if (hold.mode === 'before') {
      const page = await store.readEvents(after, limit);
      await wait();
      return page;
    }
    await wait();
    return store.readEvents(after, limit);
  }
  const wrapped: Store = {
    ...store,
    async readEvents(after, limit) {
      control.reads.push(after);
      control.limits.push(limit);
      control.inFlight++;
      control.mostInFlight = Math.max(control.mostInFlight, control.inFlight);
      try {
        return await read(after, limit);
      } finally {
        control.inFlight--;
      }
    },
    async liveEvents(horizon) {
      if (control.failing) throw new Error('the store is down');
      return store.liveEvents(horizon);
    },
  };
  return { store: wrapped, control };
}

/** Errors reported by feeds made without an `errors` array: none are expected. */
export const unexpectedErrors: unknown[] = [];

/** A feed whose interval never fires by itself: the test calls `poll()`. */
export function manualFeed(
  options: Omit<RevocationFeedOptions, 'schedule'> & { errors?: unknown[] },
): RevocationFeed {
  const { errors, ...rest } = options;
  const feed = createRevocationFeed({
    ...rest,
    schedule: () => () => {},
    onError: (error) => void (errors ?? unexpectedErrors).push(error),
  });
  cleanups.push(() => feed.close());
  return feed;
}

/** A subscriber that records what it receives. */
export function recorder() {
  const record = {
    events: [] as StoredEvent[],
    /** For each event, whether it came from the subscriber's own backlog read. */
    backlog: [] as boolean[],
    heartbeats: [] as FeedHeartbeat[],
    resets: [] as number[],
    ended: 0,
    seqs: () => record.events.map((stored) => stored.seq),
    subscriber: {
      event: (stored: StoredEvent, backlog: boolean) => {
        record.events.push(stored);
        record.backlog.push(backlog);
      },
      heartbeat: (beat: FeedHeartbeat) => void record.heartbeats.push(beat),
      reset: (head: number) => void record.resets.push(head),
      end: () => {
        record.ended += 1;
      },
    },
  };
  return record;
}

/** Serves the stream at every path; a bad position is answered 400 with its error code. */
export async function serveStream(
  feed: RevocationFeed,
  options?: RevocationStreamOptions,
): Promise<{
  port: number;
  streams: RevocationStream[];
  responses: ServerResponse[];
  close(): Promise<void>;
}> {
  const streams: RevocationStream[] = [];
  const responses: ServerResponse[] = [];
  const server: Server = createServer((request, response) => {
    responses.push(response);
    try {
      streams.push(writeRevocationStream(request, response, feed, options));
    } catch (error) {
      response.writeHead(isRevocableError(error, 'ERR_INVALID_ARGUMENT') ? 400 : 500, {
        'content-type': 'application/json',
      });
      response.end(JSON.stringify({ code: isRevocableError(error) ? error.code : 'unknown' }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const stream of streams) stream.close();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  cleanups.push(close);
  return { port, streams, responses, close };
}
