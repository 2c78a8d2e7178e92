import { MIN_KEYS_SECRET_BYTES } from '../../jwt/sealed-key-ring.js';
import {
  CLAIM_CHECK,
  HOST_CHECK,
  PG_SCHEMA_CHECK,
  REDIS_PREFIX_CHECK,
  type TextCheck,
  USERNAME_CHECK,
} from './checks.js';
import { formatBytes, formatDuration } from './format.js';

/** How a setting's text (or JSON value) is read, and the range it must fall in. */
export type SettingKind =
  | { readonly type: 'integer'; readonly min: number; readonly max: number }
  | { readonly type: 'duration'; readonly min: number; readonly max: number }
  | { readonly type: 'bytes'; readonly min: number; readonly max: number }
  | { readonly type: 'boolean' }
  /** Off, or the proxies' addresses and networks: see `TrustedProxies`. */
  | { readonly type: 'proxy' }
  | { readonly type: 'choice'; readonly choices: readonly string[] }
  | { readonly type: 'text'; readonly check: TextCheck }
  | { readonly type: 'list'; readonly check: TextCheck }
  | { readonly type: 'path' }
  | { readonly type: 'url'; readonly protocols: readonly string[] }
  | { readonly type: 'secret' };

/** A value a setting can hold once read. */
export type SettingValue = number | boolean | string | readonly string[];

/**
 * The name of one input: a field of `ServerConfig` and its configuration-file key, except the two
 * halves of `admin` (`adminUser`, `adminPassword`) and `configFile` (the file itself).
 */
export type SettingName =
  | 'configFile'
  | 'port'
  | 'host'
  | 'dataDir'
  | 'accessTtl'
  | 'refreshGrace'
  | 'idleTimeout'
  | 'sessionLifetime'
  | 'issuer'
  | 'audience'
  | 'maxStaleness'
  | 'databaseUrl'
  | 'redisUrl'
  | 'redisPrefix'
  | 'pgSchema'
  | 'keysSecret'
  | 'feedToken'
  | 'adminUser'
  | 'adminPassword'
  | 'registration'
  | 'cookieSecure'
  | 'fingerprint'
  | 'trustProxy'
  | 'bodyLimit'
  | 'requestTimeout'
  | 'maxStreams'
  | 'maxStreamsPerAddress'
  | 'loginAccountLimit'
  | 'loginAddressLimit'
  | 'loginWindow'
  | 'logLevel';

/**
 * One setting of `revocable serve`: its names in each source, how it is read, its default, and its
 * help. The parser, the configuration-file reader, the help text and the startup summary are all
 * made from this table, so none of them can drift from the others.
 */
export interface ServerSetting {
  readonly name: SettingName;
  /** The option without its dashes (`access-ttl`), or null for a variable that is never a flag. */
  readonly flag: string | null;
  /** The environment variable. */
  readonly env: string;
  /** Whether a configuration file may set it (secrets and the file itself may not). */
  readonly inFile: boolean;
  /** The placeholder shown after a flag that takes a value, like `N` or `DURATION`. */
  readonly placeholder: string;
  readonly kind: SettingKind;
  /** The default, when it is a fixed value; null when it is derived or there is none. */
  readonly default: SettingValue | null;
  /** What the help says of a default that is not a fixed value. */
  readonly defaultText?: string;
  /** Whether the value must never be shown: in errors, in help, in summaries. */
  readonly secret: boolean;
  /** One sentence for the help. */
  readonly help: string;
}

type Entry = Omit<ServerSetting, 'inFile' | 'secret' | 'placeholder'> &
  Partial<Pick<ServerSetting, 'inFile' | 'secret' | 'placeholder'>>;

function setting(entry: Entry): ServerSetting {
  return { inFile: true, secret: false, placeholder: 'VALUE', ...entry };
}

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;

/** The shortest administrator password accepted from the environment. */
export const MIN_ADMIN_PASSWORD_LENGTH = 8;
/** The shortest feed token, in bytes: a random one, not a password to remember. */
export const MIN_FEED_TOKEN_BYTES = 32;

/** Every setting of `revocable serve`, in the order of its help and its startup summary. */
export const SERVER_SETTINGS: readonly ServerSetting[] = [
  setting({
    name: 'configFile',
    flag: 'config',
    env: 'REVOCABLE_CONFIG',
    inFile: false,
    placeholder: 'FILE',
    kind: { type: 'path' },
    default: null,
    defaultText: 'none',
    help: 'A JSON file of settings: an object keyed by the "file key" names below.',
  }),
  setting({
    name: 'port',
    flag: 'port',
    env: 'PORT',
    placeholder: 'N',
    kind: { type: 'integer', min: 0, max: 65535 },
    default: 3000,
    help: 'The port to listen on; 0 picks any free port.',
  }),
  setting({
    name: 'host',
    flag: 'host',
    env: 'HOST',
    placeholder: 'ADDRESS',
    kind: { type: 'text', check: HOST_CHECK },
    default: '127.0.0.1',
    help: 'The address to listen on. The default is reachable from this machine only; in a container, use 0.0.0.0.',
  }),
  setting({
    name: 'dataDir',
    flag: 'data',
    env: 'REVOCABLE_DATA_DIR',
    placeholder: 'DIR',
    kind: { type: 'path' },
    default: 'data',
    defaultText: './data',
    help: "The folder of the SQLite database and generated secrets; relative to the working folder (in a configuration file, to the file's folder).",
  }),
  setting({
    name: 'accessTtl',
    flag: 'access-ttl',
    env: 'REVOCABLE_ACCESS_TTL',
    placeholder: 'DURATION',
    kind: { type: 'duration', min: 10, max: DAY },
    default: 10 * MINUTE,
    help: 'How long an access token lives.',
  }),
  setting({
    name: 'refreshGrace',
    flag: 'refresh-grace',
    env: 'REVOCABLE_REFRESH_GRACE',
    placeholder: 'DURATION',
    kind: { type: 'duration', min: 0, max: 5 * MINUTE },
    default: 10,
    help: "How long a spent refresh token still receives the same successor, for a client's concurrent requests; after it, reuse is theft.",
  }),
  setting({
    name: 'idleTimeout',
    flag: 'idle-timeout',
    env: 'REVOCABLE_IDLE_TIMEOUT',
    placeholder: 'DURATION',
    kind: { type: 'duration', min: MINUTE, max: 365 * DAY },
    default: 7 * DAY,
    help: 'A session not refreshed for this long ends; at least the access-token lifetime.',
  }),
  setting({
    name: 'sessionLifetime',
    flag: 'session-lifetime',
    env: 'REVOCABLE_SESSION_LIFETIME',
    placeholder: 'DURATION',
    kind: { type: 'duration', min: MINUTE, max: 365 * DAY },
    default: 30 * DAY,
    help: 'No session lives longer than this after login, however active; longer than the access-token lifetime.',
  }),
  setting({
    name: 'issuer',
    flag: 'issuer',
    env: 'REVOCABLE_ISSUER',
    placeholder: 'ISS',
    kind: { type: 'text', check: CLAIM_CHECK },
    default: null,
    defaultText:
      'http://localhost:PORT (the host instead when it is a specific, non-loopback address); required in cluster mode',
    help: 'The iss claim of every token.',
  }),
  setting({
    name: 'audience',
    flag: 'audience',
    env: 'REVOCABLE_AUDIENCE',
    placeholder: 'LIST',
    kind: { type: 'list', check: CLAIM_CHECK },
    default: ['revocable'],
    help: 'The aud claim of every token: a comma-separated list (in a configuration file, also a JSON array).',
  }),
  setting({
    name: 'maxStaleness',
    flag: 'max-staleness',
    env: 'REVOCABLE_MAX_STALENESS',
    placeholder: 'DURATION',
    kind: { type: 'duration', min: 1, max: HOUR },
    default: 5,
    help: 'How far behind the revocation log a process may fall before it refuses tokens.',
  }),
  setting({
    name: 'databaseUrl',
    flag: 'database-url',
    env: 'DATABASE_URL',
    placeholder: 'URL',
    kind: { type: 'url', protocols: ['postgres:', 'postgresql:'] },
    default: null,
    defaultText: 'none: SQLite in the data folder, one process',
    help: 'A PostgreSQL URL: run as a cluster of processes sharing it (cluster mode).',
  }),
  setting({
    name: 'redisUrl',
    flag: 'redis-url',
    env: 'REDIS_URL',
    placeholder: 'URL',
    kind: { type: 'url', protocols: ['redis:', 'rediss:'] },
    default: null,
    defaultText: 'none: processes learn of revocations from PostgreSQL',
    help: 'A Redis URL that pushes revocations between processes at once; needs a database URL.',
  }),
  setting({
    name: 'redisPrefix',
    flag: 'redis-prefix',
    env: 'REVOCABLE_REDIS_PREFIX',
    placeholder: 'PREFIX',
    kind: { type: 'text', check: REDIS_PREFIX_CHECK },
    default: 'revocable:',
    help: 'The prefix of every Redis key.',
  }),
  setting({
    name: 'pgSchema',
    flag: 'pg-schema',
    env: 'REVOCABLE_PG_SCHEMA',
    placeholder: 'NAME',
    kind: { type: 'text', check: PG_SCHEMA_CHECK },
    default: 'revocable',
    help: 'The PostgreSQL schema of every table.',
  }),
  setting({
    name: 'keysSecret',
    flag: null,
    env: 'REVOCABLE_KEYS_SECRET',
    inFile: false,
    secret: true,
    kind: { type: 'secret' },
    default: null,
    defaultText:
      'none: in SQLite mode one is generated and kept in the data folder; required in cluster mode',
    help: `The secret that seals the signing keys: at least ${MIN_KEYS_SECRET_BYTES} bytes (openssl rand -base64 32), the same in every process.`,
  }),
  setting({
    name: 'feedToken',
    flag: null,
    env: 'REVOCABLE_FEED_TOKEN',
    inFile: false,
    secret: true,
    kind: { type: 'secret' },
    default: null,
    defaultText: 'none: the feed and the metrics are open to whoever reaches the server',
    help: `A bearer token (at least ${MIN_FEED_TOKEN_BYTES} bytes: openssl rand -base64 32) that GET /revocations, /revocations/stream and /metrics then require, for a server whose port is reachable from outside your network.`,
  }),
  setting({
    name: 'adminUser',
    flag: null,
    env: 'REVOCABLE_ADMIN_USER',
    inFile: false,
    kind: { type: 'text', check: USERNAME_CHECK },
    default: null,
    defaultText: 'none',
    help: 'An administrator to create at start, with REVOCABLE_ADMIN_PASSWORD: both or neither.',
  }),
  setting({
    name: 'adminPassword',
    flag: null,
    env: 'REVOCABLE_ADMIN_PASSWORD',
    inFile: false,
    secret: true,
    kind: { type: 'secret' },
    default: null,
    defaultText: 'none',
    help: `The administrator's password: at least ${MIN_ADMIN_PASSWORD_LENGTH} characters.`,
  }),
  setting({
    name: 'registration',
    flag: 'registration',
    env: 'REVOCABLE_REGISTRATION',
    placeholder: 'open|closed',
    kind: { type: 'choice', choices: ['open', 'closed'] },
    default: 'open',
    help: 'open: anyone may create an account; closed: only an administrator creates users.',
  }),
  setting({
    name: 'cookieSecure',
    flag: 'cookie-secure',
    env: 'REVOCABLE_COOKIE_SECURE',
    kind: { type: 'boolean' },
    default: true,
    help: 'Secure cookies, named with the __Host- prefix; --no-cookie-secure only for development over plain http.',
  }),
  setting({
    name: 'fingerprint',
    flag: 'fingerprint',
    env: 'REVOCABLE_FINGERPRINT',
    kind: { type: 'boolean' },
    default: false,
    help: 'Bind the tokens of every login, bearer ones too, to an HttpOnly fingerprint cookie (the OWASP side-jacking defence): a client that keeps no cookies cannot use them.',
  }),
  setting({
    name: 'trustProxy',
    flag: 'trust-proxy',
    env: 'REVOCABLE_TRUST_PROXY',
    placeholder: 'ADDRESSES',
    kind: { type: 'proxy' },
    default: false,
    help: 'Take the client address from X-Forwarded-For as the proxies at these comma-separated addresses or networks wrote it (10.0.0.0/8, ::1; loopback, linklocal, uniquelocal); a bare --trust-proxy trusts those three ranges, proxies on this machine or a private network.',
  }),
  setting({
    name: 'bodyLimit',
    flag: 'body-limit',
    env: 'REVOCABLE_BODY_LIMIT',
    placeholder: 'BYTES',
    kind: { type: 'bytes', min: 1024, max: 1048576 },
    default: 16384,
    help: 'The largest request body: bytes, or a number with KiB or MiB.',
  }),
  setting({
    name: 'requestTimeout',
    flag: 'request-timeout',
    env: 'REVOCABLE_REQUEST_TIMEOUT',
    placeholder: 'DURATION',
    kind: { type: 'duration', min: 1, max: 10 * MINUTE },
    default: 30,
    help: 'How long a client may take to send a whole request, headers and body; slower ones get 408.',
  }),
  setting({
    name: 'maxStreams',
    flag: 'max-streams',
    env: 'REVOCABLE_MAX_STREAMS',
    placeholder: 'N',
    kind: { type: 'integer', min: 1, max: 100000 },
    default: 1000,
    help: 'Revocation streams (GET /revocations/stream) this process serves at once; more get 503.',
  }),
  setting({
    name: 'maxStreamsPerAddress',
    flag: 'max-streams-per-address',
    env: 'REVOCABLE_MAX_STREAMS_PER_ADDRESS',
    placeholder: 'N',
    kind: { type: 'integer', min: 1, max: 100000 },
    default: 32,
    help: 'Revocation streams this process serves at once to one client address (an IPv6 /64).',
  }),
  setting({
    name: 'loginAccountLimit',
    flag: 'login-account-limit',
    env: 'REVOCABLE_LOGIN_ACCOUNT_LIMIT',
    placeholder: 'N',
    kind: { type: 'integer', min: 1, max: 1000 },
    default: 10,
    help: 'Failed logins allowed per account within the login window.',
  }),
  setting({
    name: 'loginAddressLimit',
    flag: 'login-address-limit',
    env: 'REVOCABLE_LOGIN_ADDRESS_LIMIT',
    placeholder: 'N',
    kind: { type: 'integer', min: 1, max: 100000 },
    default: 100,
    help: 'Failed logins allowed per client address within the login window.',
  }),
  setting({
    name: 'loginWindow',
    flag: 'login-window',
    env: 'REVOCABLE_LOGIN_WINDOW',
    placeholder: 'DURATION',
    kind: { type: 'duration', min: MINUTE, max: DAY },
    default: 15 * MINUTE,
    help: 'The window the login limits count failures in.',
  }),
  setting({
    name: 'logLevel',
    flag: 'log-level',
    env: 'REVOCABLE_LOG_LEVEL',
    placeholder: 'LEVEL',
    kind: { type: 'choice', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] },
    default: 'info',
    help: 'How much to log.',
  }),
];

/**
 * The setting of a name. Every name has one (the table is checked by the tests), so a miss is a
 * bug in this module.
 */
export function settingOf(name: SettingName): ServerSetting {
  const found = SERVER_SETTINGS.find((entry) => entry.name === name);
  if (found === undefined) throw new Error(`no setting ${name}`);
  return found;
}

/**
 * A value as the help and the startup summary show it: durations in their unit, sizes in KiB or
 * MiB, lists comma-separated.
 *
 * @example
 * ```ts
 * formatValue(settingOf('accessTtl').kind, 600); // '10m'
 * ```
 */
export function formatValue(kind: SettingKind, value: SettingValue): string {
  if (typeof value === 'number') {
    if (kind.type === 'duration') return formatDuration(value);
    if (kind.type === 'bytes') return formatBytes(value);
    return String(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return String(value);
  return value.join(',');
}

/** What the help says a setting's range is, for the kinds that have one. */
export function rangeText(kind: SettingKind): string | null {
  switch (kind.type) {
    case 'integer':
      return `${kind.min} to ${kind.max}`;
    case 'duration':
      return `${formatDuration(kind.min)} to ${formatDuration(kind.max)}`;
    case 'bytes':
      return `${formatBytes(kind.min)} to ${formatBytes(kind.max)}`;
    default:
      return null;
  }
}

/** The default as the help shows it. */
export function defaultText(entry: ServerSetting): string {
  if (entry.defaultText !== undefined) return entry.defaultText;
  return entry.default === null ? 'none' : formatValue(entry.kind, entry.default);
}
