import { resolve } from 'node:path';
import { MIN_KEYS_SECRET_BYTES } from '../../jwt/sealed-key-ring.js';
import { decodeValue, type RawValue } from './decode.js';
import { defaultIssuer } from './issuer.js';
import {
  defaultText,
  MIN_ADMIN_PASSWORD_LENGTH,
  MIN_FEED_TOKEN_BYTES,
  SERVER_SETTINGS,
  type SettingName,
  type SettingValue,
  settingOf,
} from './settings.js';
import type {
  AdminAccount,
  ConfigField,
  ConfigSource,
  LogLevel,
  Registration,
  ServerConfig,
  TrustedProxies,
} from './types.js';

/** The values each source gave, not yet checked. */
export interface GivenValues {
  readonly flags: ReadonlyMap<SettingName, string | boolean>;
  readonly env: ReadonlyMap<SettingName, string>;
  readonly file: {
    readonly path: string;
    readonly base: string;
    readonly values: ReadonlyMap<SettingName, unknown>;
  } | null;
  /** The folder relative paths from flags and variables are resolved against. */
  readonly cwd: string;
}

/** One setting after precedence: its value (null when unset without default) and its origin. */
interface Chosen {
  readonly value: SettingValue | null;
  readonly source: ConfigSource;
  /** How problem lines name it: the flag, variable or file key it came from. */
  readonly label: string;
  /** False when the value given was bad (its problem is recorded; the default stands in). */
  readonly valid: boolean;
}

/** Every value given for a setting, highest precedence first: flag, variable, file. */
function rawsOf(name: SettingName, given: GivenValues): RawValue[] {
  const entry = settingOf(name);
  const raws: RawValue[] = [];
  const flag = given.flags.get(name);
  if (flag !== undefined) {
    raws.push({ source: 'flag', value: flag, label: `--${entry.flag}`, base: given.cwd });
  }
  const env = given.env.get(name);
  if (env !== undefined)
    raws.push({ source: 'env', value: env, label: entry.env, base: given.cwd });
  const file = given.file;
  if (file?.values.has(name)) {
    const label = `${file.path}: ${name}`;
    raws.push({ source: 'file', value: file.values.get(name), label, base: file.base });
  }
  return raws;
}

// How a setting left at its default is named in a line about two settings.
function defaultLabel(name: SettingName): string {
  const entry = settingOf(name);
  const names = entry.flag === null ? entry.env : `--${entry.flag} / ${entry.env}`;
  return `${names} (default ${defaultText(entry)})`;
}

/** Precedence, reading and the checks between settings; problems are collected, not thrown. */
export class Resolver {
  readonly problems: string[] = [];
  readonly #given: GivenValues;
  readonly #chosen = new Map<SettingName, Chosen>();

  constructor(given: GivenValues) {
    this.#given = given;
  }

  /** The setting's value by precedence (flag, variable, file, default), read and range-checked. */
  choose(name: SettingName): Chosen {
    const known = this.#chosen.get(name);
    if (known !== undefined) return known;
    const entry = settingOf(name);
    // Every value given is checked, not only the one used: a bad value under a flag that
    // overrides it is still a mistake in that variable or file, found now rather than the day the
    // flag is dropped.
    const decoded = rawsOf(name, this.#given).map((raw) => {
      const result = decodeValue(entry.kind, raw);
      if (!result.ok) this.problems.push(result.problem);
      return { raw, result };
    });
    const [first] = decoded;
    let chosen: Chosen;
    if (first === undefined) {
      let value = entry.default;
      // A fixed relative default (./data) is relative to the working folder.
      if (typeof value === 'string' && entry.kind.type === 'path') {
        value = resolve(this.#given.cwd, value);
      }
      chosen = { value, source: 'default', label: defaultLabel(name), valid: true };
    } else {
      const { raw, result } = first;
      const value = result.ok ? result.value : entry.default;
      chosen = { value, source: raw.source, label: raw.label, valid: result.ok };
    }
    this.#chosen.set(name, chosen);
    return chosen;
  }

  number(name: SettingName): number {
    const { value } = this.choose(name);
    if (typeof value !== 'number') throw new Error(`${name} is not a number setting`);
    return value;
  }

  boolean(name: SettingName): boolean {
    const { value } = this.choose(name);
    if (typeof value !== 'boolean') throw new Error(`${name} is not a boolean setting`);
    return value;
  }

  proxies(name: SettingName): TrustedProxies {
    const { value } = this.choose(name);
    if (value === false || Array.isArray(value)) return value;
    throw new Error(`${name} is not a proxy setting`);
  }

  /** A text setting, or null when it is unset and has no fixed default. */
  text(name: SettingName): string | null {
    const { value } = this.choose(name);
    if (value !== null && typeof value !== 'string') throw new Error(`${name} is not text`);
    return value;
  }

  list(name: SettingName): readonly string[] {
    const { value } = this.choose(name);
    if (!Array.isArray(value)) throw new Error(`${name} is not a list setting`);
    return value;
  }

  /** Where a field's value came from; `admin` from its two variables. */
  source(field: ConfigField): ConfigSource {
    if (field === 'admin') {
      const user = this.choose('adminUser').source;
      return user === 'default' ? this.choose('adminPassword').source : user;
    }
    return this.choose(field).source;
  }

  /** Whether every one of these settings was read without a problem. */
  valid(...names: SettingName[]): boolean {
    return names.every((name) => this.choose(name).valid);
  }

  label(name: SettingName): string {
    return this.choose(name).label;
  }
}

function checkDurations(r: Resolver): void {
  if (!r.valid('accessTtl', 'sessionLifetime', 'idleTimeout')) return;
  const access = r.number('accessTtl');
  if (r.number('sessionLifetime') <= access) {
    r.problems.push(
      `${r.label('sessionLifetime')} must be longer than the access-token lifetime, ` +
        `${r.label('accessTtl')}: no session would outlive its first token`,
    );
  }
  if (r.number('idleTimeout') < access) {
    r.problems.push(
      `${r.label('idleTimeout')} must be at least the access-token lifetime, ` +
        `${r.label('accessTtl')}: a client refreshes about once per token, so sessions in use ` +
        'would end',
    );
  }
}

function keysSecret(r: Resolver, cluster: boolean): string | null {
  const secret = r.text('keysSecret');
  const name = settingOf('keysSecret').env;
  if (secret === null) {
    if (cluster) {
      r.problems.push(
        `${name} is not set; cluster mode (${settingOf('databaseUrl').env}) needs the same secret ` +
          `of at least ${MIN_KEYS_SECRET_BYTES} bytes in every process (openssl rand -base64 32)`,
      );
    }
    return null;
  }
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_KEYS_SECRET_BYTES) {
    r.problems.push(`${name} is ${bytes} bytes; it must be at least ${MIN_KEYS_SECRET_BYTES}`);
  }
  return secret;
}

// RFC 6750's b64token: what an Authorization: Bearer header can carry.
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function feedToken(r: Resolver): string | null {
  const token = r.text('feedToken');
  if (token === null) return null;
  const name = settingOf('feedToken').env;
  const bytes = Buffer.byteLength(token, 'utf8');
  if (bytes < MIN_FEED_TOKEN_BYTES) {
    r.problems.push(`${name} is ${bytes} bytes; it must be at least ${MIN_FEED_TOKEN_BYTES}`);
  } else if (!BEARER_TOKEN.test(token)) {
    // Anything else could never be sent in an Authorization: Bearer header (RFC 6750, 2.1).
    r.problems.push(
      `${name} must be letters, digits and - . _ ~ + / with = only at the end (openssl rand -base64 32 makes one)`,
    );
  }
  return token;
}

function admin(r: Resolver): AdminAccount | null {
  const username = r.text('adminUser');
  const password = r.text('adminPassword');
  const userVariable = settingOf('adminUser').env;
  const passwordVariable = settingOf('adminPassword').env;
  // A bad user name has its own problem line; that the pair is incomplete would be noise.
  if (!r.valid('adminUser') || (username === null && password === null)) return null;
  if (username === null) {
    r.problems.push(`${passwordVariable} is set without ${userVariable}: set both or neither`);
    return null;
  }
  if (password === null) {
    r.problems.push(`${userVariable} is set without ${passwordVariable}: set both or neither`);
    return null;
  }
  const length = [...password].length;
  if (length < MIN_ADMIN_PASSWORD_LENGTH) {
    r.problems.push(
      `${passwordVariable} is ${length} characters; it must be at least ${MIN_ADMIN_PASSWORD_LENGTH}`,
    );
  }
  return Object.freeze({ username, password });
}

function issuer(r: Resolver, cluster: boolean): string {
  const given = r.text('issuer');
  if (given !== null || !r.valid('issuer')) return given ?? '';
  // Derived from each process's own host and port, issuers would differ across a cluster, and a
  // token signed by one process would be refused by the next: a cluster's default names the
  // deployment instead (its schema), the same in every process. A cluster needs no setting but
  // its URLs and its secret; set an https issuer for tokens other parties verify.
  if (cluster) return `urn:revocable:${r.text('pgSchema') ?? 'revocable'}`;
  return defaultIssuer(r.text('host') ?? '', r.number('port'));
}

function required(value: string | null, name: SettingName): string {
  if (value === null) throw new Error(`${name} has no default`);
  return value;
}

/**
 * Applies precedence to every setting, reads each, and checks the settings against each other:
 * Redis needs PostgreSQL, cluster mode needs a keys secret, the admin's two
 * variables go together, a session outlives its access token. Returns the configuration (not to
 * be used when `problems` is not empty) and the problems.
 */
export function resolveConfig(given: GivenValues): {
  readonly config: ServerConfig;
  readonly problems: readonly string[];
} {
  const r = new Resolver(given);
  // Read in the table's order, so that problem lines come in the order of the help.
  for (const entry of SERVER_SETTINGS) r.choose(entry.name);
  const databaseUrl = r.text('databaseUrl');
  const redisUrl = r.text('redisUrl');
  const cluster = databaseUrl !== null;
  if (redisUrl !== null && databaseUrl === null && r.valid('databaseUrl')) {
    r.problems.push(
      `${r.label('redisUrl')} needs ${settingOf('databaseUrl').env}: the cluster keeps users and ` +
        'sessions in PostgreSQL',
    );
  }
  const fields = {
    mode: cluster ? 'cluster' : 'sqlite',
    configFile: r.text('configFile'),
    port: r.number('port'),
    host: required(r.text('host'), 'host'),
    dataDir: required(r.text('dataDir'), 'dataDir'),
    accessTtl: r.number('accessTtl'),
    refreshGrace: r.number('refreshGrace'),
    idleTimeout: r.number('idleTimeout'),
    sessionLifetime: r.number('sessionLifetime'),
    issuer: issuer(r, cluster),
    audience: r.list('audience'),
    maxStaleness: r.number('maxStaleness'),
    databaseUrl,
    redisUrl,
    redisPrefix: required(r.text('redisPrefix'), 'redisPrefix'),
    pgSchema: required(r.text('pgSchema'), 'pgSchema'),
    keysSecret: keysSecret(r, cluster),
    feedToken: feedToken(r),
    admin: admin(r),
    registration: required(r.text('registration'), 'registration') as Registration,
    cookieSecure: r.boolean('cookieSecure'),
    fingerprint: r.boolean('fingerprint'),
    trustProxy: r.proxies('trustProxy'),
    bodyLimit: r.number('bodyLimit'),
    requestTimeout: r.number('requestTimeout'),
    maxStreams: r.number('maxStreams'),
    maxStreamsPerAddress: r.number('maxStreamsPerAddress'),
    loginAccountLimit: r.number('loginAccountLimit'),
    loginAddressLimit: r.number('loginAddressLimit'),
    loginWindow: r.number('loginWindow'),
    logLevel: required(r.text('logLevel'), 'logLevel') as LogLevel,
  } as const;
  checkDurations(r);
  const sources = {} as Record<ConfigField, ConfigSource>;
  for (const field of Object.keys(fields) as (keyof typeof fields)[]) {
    if (field !== 'mode') sources[field] = r.source(field);
  }
  return { config: { ...fields, sources: Object.freeze(sources) }, problems: r.problems };
}
