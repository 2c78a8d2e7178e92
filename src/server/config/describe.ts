import { redactUrl } from './redact.js';
import { formatValue, SERVER_SETTINGS } from './settings.js';
import type { ConfigField, ServerConfig } from './types.js';

/** The fields in the order of the settings table, `admin` in place of its two variables. */
const FIELDS: readonly ConfigField[] = SERVER_SETTINGS.flatMap((entry): ConfigField[] => {
  if (entry.name === 'adminUser') return ['admin'];
  if (entry.name === 'adminPassword') return [];
  return [entry.name];
});

function shown(config: ServerConfig, field: ConfigField): string {
  switch (field) {
    case 'keysSecret':
      return config.keysSecret === null ? 'generated in data dir' : 'set';
    case 'feedToken':
      return config.feedToken === null ? 'none (feed and metrics open)' : 'set';
    case 'admin':
      return config.admin === null ? 'none' : `${config.admin.username} (password set)`;
    case 'databaseUrl':
    case 'redisUrl': {
      const url = config[field];
      return url === null ? 'none' : redactUrl(url);
    }
    default: {
      const value = config[field];
      if (value === null) return 'none';
      const entry = SERVER_SETTINGS.find((candidate) => candidate.name === field);
      return entry === undefined ? String(value) : formatValue(entry.kind, value);
    }
  }
}

/**
 * The configuration as the server logs it at start: the mode, then every setting with its value
 * and where it came from. Secrets never appear: the keys secret shows as `set` or
 * `generated in data dir`, the admin's password as `password set`, URLs with their password as
 * `***`.
 *
 * @example
 * ```ts
 * logger.info(describeConfig(config));
 * // revocable serve: sqlite mode
 * //   port  3000  (default)
 * //   ...
 * ```
 */
export function describeConfig(config: ServerConfig): string {
  const rows = FIELDS.map((field) => [field, shown(config, field), config.sources[field]] as const);
  const nameWidth = Math.max(...rows.map(([field]) => field.length));
  // A long path or URL does not push every other row's source off to the right.
  const valueWidth = Math.min(40, Math.max(...rows.map(([, value]) => value.length)));
  const lines = rows.map(
    ([field, value, source]) =>
      `  ${field.padEnd(nameWidth)}  ${value.padEnd(valueWidth)}  (${source})`,
  );
  return [`revocable serve: ${config.mode} mode`, ...lines].join('\n');
}
