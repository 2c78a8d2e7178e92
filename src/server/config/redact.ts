import type { ServerConfig } from './types.js';

/** What stands for a secret wherever a configuration is shown. */
export const REDACTED = '***';

// Query parameters that carry credentials in PostgreSQL and Redis URLs (password, sslpassword,
// a token, a key...).
const SENSITIVE_PARAMETER = /pass|secret|token|key|auth/i;

/**
 * A URL fit for a log: its password, and any query parameter that looks like a credential,
 * replaced by `***`. Text that is not a URL is replaced whole, since where its password is cannot
 * be known.
 *
 * @example
 * ```ts
 * redactUrl('postgres://app:hunter2@db/revocable'); // 'postgres://app:***@db/revocable'
 * ```
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return REDACTED;
  }
  if (url.password !== '') url.password = REDACTED;
  for (const name of [...url.searchParams.keys()]) {
    if (SENSITIVE_PARAMETER.test(name)) url.searchParams.set(name, REDACTED);
  }
  return url.toString();
}

/**
 * The configuration with its secrets replaced: the keys secret, the feed token and the admin's password by `***`,
 * the URLs by {@link redactUrl}. What `JSON.stringify(config)` and `util.inspect(config)` show.
 */
export function redactedConfig(config: ServerConfig): Record<string, unknown> {
  return {
    ...config,
    keysSecret: config.keysSecret === null ? null : REDACTED,
    feedToken: config.feedToken === null ? null : REDACTED,
    admin: config.admin === null ? null : { username: config.admin.username, password: REDACTED },
    databaseUrl: config.databaseUrl === null ? null : redactUrl(config.databaseUrl),
    redisUrl: config.redisUrl === null ? null : redactUrl(config.redisUrl),
  };
}
