import { invalidArgument } from '../internal/validate.js';

/** The default key prefix on a single Redis server (or Sentinel). */
export const DEFAULT_PREFIX = 'revocable:';
/** The default key prefix on a Redis Cluster: one hash tag, so every key lives in one slot. */
export const DEFAULT_CLUSTER_PREFIX = '{revocable}:';

// The names after the prefix. Scripts build the keys of sessions and subjects they discover from
// the same names (interpolated into their source), so the two sides cannot drift apart. Each
// namespace starts differently ('session:' vs 'sessions:' differ at their ninth character), so
// no sid or sub can make two different keys collide.
export const KEY_NAMES = {
  layout: 'layout',
  session: 'session:',
  subject: 'subject:',
  subjectSessions: 'sessions:',
  ends: 'ends',
  epochEnds: 'ends:',
  epoch: 'epoch',
  log: 'log',
  logIds: 'log:ids',
  logUntil: 'log:until',
  logSeq: 'log:seq',
} as const;

/** Every key of one store, under its prefix. */
export interface RedisKeys {
  readonly prefix: string;
  /** String: the layout version of the keys under the prefix. */
  readonly layout: string;
  /**
   * ZSET: sid by the time its session ended (or will end), for prune: the sessions created in
   * epoch 0. Those of a later epoch `e` are in `<prefix>ends:<e>` (see {@link epochEnds}).
   */
  readonly ends: string;
  /**
   * HASH: `current`, the epoch new sessions are created in (absent: 0), and for every epoch a
   * `revokeAll` ended, its number mapped to that call's `at`.
   */
  readonly epoch: string;
  /** ZSET: event JSON by seq. */
  readonly log: string;
  /** HASH: event id to seq, for de-duplication and to find an event's body. */
  readonly logIds: string;
  /** ZSET: event id by `until`, for liveEvents and prune. */
  readonly logUntil: string;
  /** String counter: the last seq handed out; never goes back, even when prune empties the log. */
  readonly logSeq: string;
  /** HASH: one session. */
  session(sid: string): string;
  /** ZSET: like {@link ends}, for the sessions created in epoch `epoch` (0 is `ends` itself). */
  epochEnds(epoch: number): string;
  /** HASH: a subject's generation and ban. */
  subject(sub: string): string;
  /** ZSET: a subject's unrevoked sids by creation time. */
  subjectSessions(sub: string): string;
}

/**
 * Whether the prefix carries a Redis Cluster hash tag: a `{`, later a `}`, and at least one
 * character between them. Then only that part is hashed, so every key of the store maps to the
 * same slot whatever follows the prefix.
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open >= 0 && prefix.indexOf('}', open + 1) > open + 1;
}

/**
 * Checks the prefix option and returns the prefix to use. On a Cluster every key must carry one
 * hash tag: the scripts touch a subject's sessions, the session index and the log together, and
 * Redis refuses (CROSSSLOT) or cannot see keys in other slots.
 */
export function resolvePrefix(prefix: unknown, cluster: boolean): string {
  if (prefix === undefined) return cluster ? DEFAULT_CLUSTER_PREFIX : DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 256) {
    throw invalidArgument('prefix must be a non-empty string of at most 256 characters.');
  }
  if (cluster && !hasHashTag(prefix)) {
    throw invalidArgument(
      "On a Redis Cluster the prefix must contain a hash tag (e.g. '{revocable}:') so that every key of the store lives in one slot.",
    );
  }
  return prefix;
}

/** The keys of a store under `prefix`. */
export function redisKeys(prefix: string): RedisKeys {
  return {
    prefix,
    layout: prefix + KEY_NAMES.layout,
    ends: prefix + KEY_NAMES.ends,
    epoch: prefix + KEY_NAMES.epoch,
    log: prefix + KEY_NAMES.log,
    logIds: prefix + KEY_NAMES.logIds,
    logUntil: prefix + KEY_NAMES.logUntil,
    logSeq: prefix + KEY_NAMES.logSeq,
    epochEnds: (epoch) =>
      epoch === 0 ? prefix + KEY_NAMES.ends : prefix + KEY_NAMES.epochEnds + epoch,
    session: (sid) => prefix + KEY_NAMES.session + sid,
    subject: (sub) => prefix + KEY_NAMES.subject + sub,
    subjectSessions: (sub) => prefix + KEY_NAMES.subjectSessions + sub,
  };
}
