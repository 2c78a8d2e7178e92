/** Where a setting's value came from, highest precedence first. */
export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

/** How much the server logs. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';

/**
 * Which proxies the server believes about the client's address: none (`false`), or those at these
 * addresses and networks (`10.0.0.0/8`, `::1`, or the names `loopback`, `linklocal` and
 * `uniquelocal`). X-Forwarded-For is read from the right, past every trusted proxy, and the first
 * address that is not one is the client.
 */
export type TrustedProxies = false | readonly string[];

/** Whether anyone may create an account (`open`), or only an administrator (`closed`). */
export type Registration = 'open' | 'closed';

/** The administrator the server makes sure exists at start (from the environment only). */
export interface AdminAccount {
  readonly username: string;
  readonly password: string;
}

/**
 * Everything `revocable serve` needs, checked as a whole before anything starts. Durations are in
 * whole seconds, sizes in bytes, paths absolute.
 *
 * The object is frozen, and its `toJSON` and `util.inspect` forms replace the two secrets
 * (`keysSecret`, `feedToken`, `admin.password`), so logging it by mistake does not leak them.
 */
export interface ServerConfig {
  /** `cluster` when `databaseUrl` is set (PostgreSQL, optionally Redis), else `sqlite`. */
  readonly mode: 'sqlite' | 'cluster';
  /** The configuration file read, absolute, or null when there was none. */
  readonly configFile: string | null;
  /** The port to listen on; 0 picks a free one. */
  readonly port: number;
  /** The address to listen on: 127.0.0.1 by default, 0.0.0.0 in a container. */
  readonly host: string;
  /** Where the SQLite database and the generated secrets live. */
  readonly dataDir: string;
  /** Access-token lifetime, in seconds. */
  readonly accessTtl: number;
  /** How long a spent refresh token still yields the same successor, in seconds. */
  readonly refreshGrace: number;
  /** A session not refreshed for this long ends, in seconds. */
  readonly idleTimeout: number;
  /** No session lives longer than this after login, in seconds. */
  readonly sessionLifetime: number;
  /**
   * `iss` of every token. Its default is derived from host and port; with port 0 it says port 0:
   * when `sources.issuer` is `'default'`, recompute it with `defaultIssuer(host, boundPort)`.
   */
  readonly issuer: string;
  /** `aud` of every token. */
  readonly audience: readonly string[];
  /** How stale the revocation index may grow before verification fails closed, in seconds. */
  readonly maxStaleness: number;
  /** The PostgreSQL URL of cluster mode (it may hold a password: never log it as is). */
  readonly databaseUrl: string | null;
  /** The Redis URL that pushes revocations between processes (may hold a password). */
  readonly redisUrl: string | null;
  /** The prefix of every Redis key. */
  readonly redisPrefix: string;
  /** The PostgreSQL schema of every table. */
  readonly pgSchema: string;
  /**
   * The secret that seals the shared key ring (at least 32 bytes): required in cluster mode; in
   * SQLite mode null means the server generates one and keeps it in the data directory.
   */
  readonly keysSecret: string | null;
  /**
   * The bearer token that `GET /revocations`, `/revocations/stream` and `/metrics` require, or
   * null when they are open to whoever reaches the server.
   */
  readonly feedToken: string | null;
  /** The administrator to create at start, or null. */
  readonly admin: AdminAccount | null;
  readonly registration: Registration;
  /**
   * Whether cookies are `Secure` (and named with the `__Host-` prefix, which requires it). False
   * only for development over plain http.
   */
  readonly cookieSecure: boolean;
  /** Whether cookie-mode tokens are bound to a fingerprint cookie (OWASP side-jacking defence). */
  readonly fingerprint: boolean;
  /**
   * Whose X-Forwarded-For entries are believed when the client address is read: false for none
   * (the address is the connection's), or the addresses and networks of the proxies. Never "all":
   * the leftmost entry is whatever the client wrote, so trusting it would let a client pick the
   * address its login and stream limits count under.
   */
  readonly trustProxy: TrustedProxies;
  /** The largest request body accepted, in bytes. */
  readonly bodyLimit: number;
  /**
   * Seconds a client may take to send a whole request (headers and body): a body sent a byte at
   * a time must not hold a connection open for ever. Responses (the revocation stream) are not
   * bound by it.
   */
  readonly requestTimeout: number;
  /** Revocation streams this process serves at once. */
  readonly maxStreams: number;
  /** Revocation streams this process serves at once to one client address (an IPv6 /64). */
  readonly maxStreamsPerAddress: number;
  /** Failed logins allowed per account within `loginWindow`. */
  readonly loginAccountLimit: number;
  /** Failed logins allowed per client address within `loginWindow`. */
  readonly loginAddressLimit: number;
  /** The window the login limits count in, in seconds. */
  readonly loginWindow: number;
  readonly logLevel: LogLevel;
  /** Where each setting came from, for the startup summary. */
  readonly sources: Readonly<Record<ConfigField, ConfigSource>>;
}

/** The settings of {@link ServerConfig}: every field but the derived `mode` and `sources`. */
export type ConfigField = Exclude<keyof ServerConfig, 'mode' | 'sources'>;
