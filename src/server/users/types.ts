/**
 * What the server keeps of a user, and the narrow store it keeps users in.
 *
 * @module
 */

/**
 * One user. Times are epoch seconds (the JWT unit). `id` is the JWT `sub` of the user's tokens:
 * `u_` and 16 random bytes in base64url, never derived from the username, so a user can be
 * renamed or a name reused without a token of one user ever naming another.
 *
 * @example
 * ```ts
 * const user: UserRecord = {
 *   id: 'u_3q2-7wAAAAAAAAAAAAAAAA',
 *   username: 'Alice',
 *   passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$...',
 *   roles: ['admin'],
 *   createdAt: 1_900_000_000,
 *   passwordChangedAt: 1_900_000_000,
 * };
 * ```
 */
export interface UserRecord {
  readonly id: string;
  /** As registered (case kept); unique without regard to case. */
  readonly username: string;
  /** A PHC string (argon2id), never the password. */
  readonly passwordHash: string;
  readonly roles: readonly string[];
  readonly createdAt: number;
  readonly passwordChangedAt: number;
}

/** What {@link UserStore.create} did: `taken` when another user has the name (in any case). */
export type CreateUserOutcome = 'created' | 'taken';

/**
 * Where users live: seven obvious methods and nothing ORM-shaped, so that a store for another
 * database is an afternoon's work and every store passes the same contract tests.
 *
 * Uniqueness of the username without regard to case is the store's job (a lower-cased key column
 * with a unique index), because only the database can decide a race between two processes.
 * Stores check the shape of what they are given (`ERR_INVALID_ARGUMENT`) but not the username and
 * password policies, which are the accounts' business. Driver failures arrive as
 * `ERR_STORE_UNAVAILABLE` with the driver error as `cause`.
 *
 * @example
 * ```ts
 * if ((await users.create(record)) === 'taken') throw usernameTaken();
 * const user = await users.byUsername('alice'); // finds 'Alice' too
 * ```
 */
export interface UserStore {
  /** Adds a user; `taken` (and nothing written) when the lower-cased username exists. */
  create(user: UserRecord): Promise<CreateUserOutcome>;
  /** The user whose username equals this one without regard to case, or null. */
  byUsername(username: string): Promise<UserRecord | null>;
  /** The user with this id, or null. */
  byId(id: string): Promise<UserRecord | null>;
  /** Replaces the password hash and sets `passwordChangedAt`; false for an unknown id. */
  setPassword(id: string, passwordHash: string, at: number): Promise<boolean>;
  /** Replaces the roles; false for an unknown id. */
  setRoles(id: string, roles: readonly string[]): Promise<boolean>;
  /** How many users there are (the server asks whether any exists at start). */
  count(): Promise<number>;
  /** Releases what the store holds; never closes the database client it was given. */
  close(): Promise<void>;
}
