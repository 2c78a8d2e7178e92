/**
 * The login throttle's interface and options, shared by its three implementations.
 *
 * @module
 */

/**
 * Fixed-window counters of failed logins, per account and per client address. A login is refused
 * while either counter of its window has reached its limit; a success clears the account's counter
 * (the address keeps its own, so an attacker cannot reset it by logging into an account of their
 * own). Counters are shared by every process using the same backend (a Redis prefix, a PostgreSQL
 * schema), so a cluster throttles as one.
 *
 * Account names are compared without regard to case and addresses by network (an IPv6 address by
 * its /64, which one subscriber usually holds whole; an IPv4-mapped IPv6 address as the IPv4
 * address); long or unusual keys are stored as their SHA-256, so no key is unbounded.
 *
 * @example
 * ```ts
 * const wait = await throttle.blockedFor(username, request.ip);
 * if (wait > 0) throw new LoginThrottledError(wait);
 * // ... verify; on failure:
 * await throttle.failed(username, request.ip);
 * ```
 */
export interface LoginThrottle {
  /**
   * Seconds (a whole number) until another attempt for this account from this address is
   * allowed; 0 when it is allowed now. Without an address, only the account counts.
   */
  blockedFor(account: string, address?: string): Promise<number>;
  /** Counts a failed attempt against the account and (when given) the address. */
  failed(account: string, address?: string): Promise<void>;
  /** Clears the account's counter; the address keeps its own. */
  succeeded(account: string): Promise<void>;
  /** Releases what the throttle holds; never closes a client it was given. */
  close(): Promise<void>;
}

/**
 * The limits of a throttle. Past `accountLimit` failures for one account, or `addressLimit` from
 * one address, within one window of `window` seconds (which starts at the first failure of a
 * key), attempts are refused until the window ends.
 *
 * @example
 * ```ts
 * const options: LoginThrottleOptions = { accountLimit: 5, addressLimit: 50, window: 600 };
 * ```
 */
export interface LoginThrottleOptions {
  /** Failures per account per window (default 10). */
  accountLimit?: number;
  /** Failures per client address per window (default 100: a NAT may hide an office). */
  addressLimit?: number;
  /** The window, in whole seconds (default 900). */
  window?: number;
}
