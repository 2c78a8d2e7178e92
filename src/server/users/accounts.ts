import { RevocableError } from '../../errors/revocable-error.js';
import { type Clock, systemClock } from '../../lib/clock.js';
import { isWellFormedText } from '../../lib/text.js';
import { invalidArgument } from '../../stores/internal/validate.js';
import { ensureAdmin } from './ensure-admin.js';
import { createKeyedGate } from './internal/keyed-gate.js';
import { LoginThrottledError } from './login-throttled-error.js';
import { normalizingHasher } from './normalize.js';
import {
  ARGON2_PASSWORDS,
  createDummyHash,
  dummyPasswordHash,
  type PasswordHasher,
} from './passwords.js';
import {
  checkPassword,
  checkRoles,
  checkUsername,
  isUsername,
  MAX_PASSWORD_INPUT,
} from './policy.js';
import type { LoginThrottle } from './throttle/types.js';
import type { UserRecord, UserStore } from './types.js';
import { newUserId } from './user-id.js';

/** Options for {@link createAccounts}. */
export interface AccountsOptions {
  users: UserStore;
  throttle: LoginThrottle;
  /** The clock, in epoch seconds (default the system clock). */
  now?: Clock;
  /**
   * Whether the HTTP layer lets anyone register (default false). Only recorded here, as
   * `accounts.registration`: `register` itself always works (it is also what `users add` uses).
   */
  registration?: boolean;
  /**
   * How passwords are hashed and verified (default argon2id); tests count the calls. It is given
   * the NFKC form of each password (`normalizePassword`), and, when that form fails to verify and
   * differs from the password as typed, the typed text as well (for hashes made before
   * normalisation).
   */
  passwords?: PasswordHasher;
}

/** What {@link Accounts.ensureAdmin} found or did. */
export interface EnsureAdminResult {
  user: UserRecord;
  /** True when the user did not exist and was created. */
  created: boolean;
}

/**
 * Users as the server's routes and the CLI use them: registration, login, password changes and
 * roles, with the policies of policy.ts and the throttle applied.
 *
 * @example
 * ```ts
 * const user = await accounts.authenticate(body.username, body.password, request.ip);
 * ```
 */
export interface Accounts {
  /** Whether the HTTP layer should accept registrations (the `registration` option). */
  readonly registration: boolean;
  /** A new user: `ERR_USERNAME_INVALID`, `ERR_PASSWORD_POLICY`, `ERR_USERNAME_TAKEN`. */
  register(username: unknown, password: unknown, roles?: readonly string[]): Promise<UserRecord>;
  /**
   * The user these credentials name: `ERR_LOGIN_THROTTLED` ({@link LoginThrottledError}) or
   * `ERR_LOGIN_FAILED`, the same answer and the same password verifications whether or not the
   * user exists, and whatever the type of the input: one, or two for a password that
   * normalisation changes (see normalize.ts).
   */
  authenticate(username: unknown, password: unknown, address: string): Promise<UserRecord>;
  /**
   * Changes a user's password after checking the current one (`ERR_LOGIN_FAILED`, throttled as a
   * login by the account and, when given, the client's address), then the policy on the new one.
   * `beforeStore`, when given, runs once both checks passed and before the new password is stored:
   * if it fails, the password stays as it was.
   */
  changePassword(
    id: string,
    current: unknown,
    next: unknown,
    address?: string,
    beforeStore?: () => Promise<unknown>,
  ): Promise<UserRecord>;
  /** Sets a password without the current one (administrators, the CLI); clears the throttle. */
  setPassword(id: string, password: unknown): Promise<UserRecord>;
  /** Replaces a user's roles (`ERR_INVALID_ARGUMENT` for bad roles, `ERR_USER_UNKNOWN`). */
  setRoles(id: string, roles: unknown): Promise<UserRecord>;
  /** The user with this id, or null. */
  get(id: string): Promise<UserRecord | null>;
  /** The user with this name (without regard to case), or null, also for a malformed name. */
  findByUsername(username: unknown): Promise<UserRecord | null>;
  /**
   * Makes sure an administrator with these credentials exists (the operator's environment is the
   * truth): creates it with the role `admin`, or adds `admin` to its roles and sets the password
   * when it does not verify. Safe when several processes start at once.
   */
  ensureAdmin(username: unknown, password: unknown): Promise<EnsureAdminResult>;
}

const LOGIN_FAILED = 'The username or password is wrong.';
// Logins from one client address verified at once in this process (see createKeyedGate).
const ADDRESS_CONCURRENCY = 4;

/** The one answer to wrong credentials, whichever part was wrong. */
export function loginFailed(): RevocableError {
  return new RevocableError('ERR_LOGIN_FAILED', LOGIN_FAILED);
}

/** `ERR_USER_UNKNOWN`. */
export function userUnknown(): RevocableError {
  return new RevocableError('ERR_USER_UNKNOWN', 'No user has this id.');
}

// What is verified when the input is no password at all (not a string, longer than any password
// the policy lets in, or with a lone surrogate, which the policy refuses and argon2 would read as
// U+FFFD): the empty string, so the cost is the same, input of any size never reaches argon2,
// and no password has a second spelling.
function candidate(password: unknown): string {
  return typeof password === 'string' &&
    password.length <= MAX_PASSWORD_INPUT &&
    isWellFormedText(password)
    ? password
    : '';
}

/**
 * The accounts of a server over a {@link UserStore} and a {@link LoginThrottle}.
 *
 * `authenticate` checks the throttle first (no password work for a throttled attempt), then
 * verifies the password against the user's hash, or a dummy hash made once with the same
 * parameters when the user does not exist or the input is malformed, so the answer takes the same
 * time either way. Passwords are hashed and verified in their NFKC form; a failed login whose
 * password normalisation changed is verified once more as typed (against the dummy hash too, so
 * the cost still says nothing of the user), so that hashes made before normalisation still sign
 * their users in. A failure counts against the account and the address; a success clears the
 * account's counter. Attempts on one account run one at a time in this process, and at most four
 * from one address, so a burst of parallel guesses cannot all slip past the throttle before the
 * first failures are counted.
 *
 * @example
 * ```ts
 * const accounts = createAccounts({
 *   users: createSqliteUserStore({ database }),
 *   throttle: createMemoryLoginThrottle(),
 * });
 * await accounts.register('alice', 'correct horse battery staple');
 * const alice = await accounts.authenticate('Alice', 'correct horse battery staple', '192.0.2.1');
 * ```
 */
export function createAccounts(options: AccountsOptions): Accounts {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('options must be an object.');
  }
  const { users, throttle } = options;
  if (typeof users?.byUsername !== 'function') throw invalidArgument('users must be a UserStore.');
  if (typeof throttle?.blockedFor !== 'function') {
    throw invalidArgument('throttle must be a LoginThrottle.');
  }
  const now = options.now ?? systemClock;
  if (typeof now !== 'function') throw invalidArgument('now must be a function.');
  const registration = options.registration ?? false;
  if (typeof registration !== 'boolean') throw invalidArgument('registration must be a boolean.');
  const hasher = options.passwords ?? ARGON2_PASSWORDS;
  if (typeof hasher?.hash !== 'function' || typeof hasher.verify !== 'function') {
    throw invalidArgument('passwords must have hash and verify functions.');
  }
  // Every hash and verify below, ensureAdmin's included, goes through this one wrapper.
  //
  // A hash that only the typed text matched (made before normalisation) is not rewritten at a
  // login: the store has no compare-and-set, so a login from another process could write the old
  // password over an administrator's reset made meanwhile, and startLoginSession takes any new
  // hash for a password change and refuses the logins in flight. The next change replaces it.
  const passwords = normalizingHasher(hasher);
  const dummy = options.passwords === undefined ? dummyPasswordHash : createDummyHash(hasher.hash);
  const perAccount = createKeyedGate(1);
  const perAddress = createKeyedGate(ADDRESS_CONCURRENCY);
  // Made now, in the background, rather than at the first login of an unknown user, which would
  // otherwise take one hash longer than any other answer. A failure here (argon2 missing) is
  // met again, and reported, by the first login.
  dummy().catch(() => {});

  async function known(id: string): Promise<UserRecord> {
    const user = await users.byId(id);
    if (user === null) throw userUnknown();
    return user;
  }

  async function storePassword(user: UserRecord, password: string): Promise<UserRecord> {
    const passwordHash = await passwords.hash(password);
    const at = now();
    if (!(await users.setPassword(user.id, passwordHash, at))) throw userUnknown();
    return { ...user, passwordHash, passwordChangedAt: at };
  }

  async function register(username: unknown, password: unknown, roles: readonly string[] = []) {
    checkUsername(username);
    checkPassword(password);
    checkRoles(roles);
    const at = now();
    const user: UserRecord = {
      id: newUserId(),
      username,
      passwordHash: await passwords.hash(password),
      roles: Object.freeze([...roles]),
      createdAt: at,
      passwordChangedAt: at,
    };
    if ((await users.create(user)) === 'taken') {
      throw new RevocableError('ERR_USERNAME_TAKEN', 'Another user has this username.');
    }
    return user;
  }

  async function attempt(username: unknown, password: unknown, address: string) {
    const account = typeof username === 'string' ? username : '';
    const wait = await throttle.blockedFor(account, address);
    if (wait > 0) throw new LoginThrottledError(wait);
    const user = isUsername(username) ? await users.byUsername(username) : null;
    const hash = user?.passwordHash ?? (await dummy());
    const verified = await passwords.verify(hash, candidate(password));
    if (user === null || !verified) {
      await throttle.failed(account, address);
      throw loginFailed();
    }
    await throttle.succeeded(account);
    return user;
  }

  return {
    registration,
    register,
    authenticate: (username, password, address) =>
      perAddress(address, () =>
        perAccount(typeof username === 'string' ? username.toLowerCase() : '', () =>
          attempt(username, password, address),
        ),
      ),
    async changePassword(id, current, next, address, beforeStore) {
      const user = await known(id);
      return perAccount(user.username.toLowerCase(), async () => {
        const wait = await throttle.blockedFor(user.username, address);
        if (wait > 0) throw new LoginThrottledError(wait);
        if (!(await passwords.verify(user.passwordHash, candidate(current)))) {
          await throttle.failed(user.username, address);
          throw loginFailed();
        }
        await throttle.succeeded(user.username);
        checkPassword(next);
        await beforeStore?.();
        return storePassword(user, next);
      });
    },
    async setPassword(id, password) {
      checkPassword(password);
      const user = await storePassword(await known(id), password);
      // An administrator's reset also lifts a lockout of the account.
      await throttle.succeeded(user.username);
      return user;
    },
    async setRoles(id, roles) {
      checkRoles(roles);
      const user = await known(id);
      if (!(await users.setRoles(id, roles))) throw userUnknown();
      return { ...user, roles: Object.freeze([...roles]) };
    },
    get: (id) => users.byId(id),
    findByUsername: async (username) => (isUsername(username) ? users.byUsername(username) : null),
    ensureAdmin: (username, password) =>
      ensureAdmin({ users, passwords, register, setPassword: storePassword }, username, password),
  };
}
