/**
 * The configuration of `revocable serve`: flags, environment variables, an optional JSON file and
 * defaults, read from one table of settings that also makes the help text, checked as a whole
 * before the server starts.
 *
 * @example
 * ```ts
 * import { describeConfig, loadServerConfig, serveHelp } from './config/index.js';
 * const config = loadServerConfig({ argv, env: process.env });
 * ```
 * @module
 */
export { describeConfig } from './describe.js';
export type { Environment } from './env.js';
export { ServerConfigError } from './error.js';
export { SERVE_SUMMARY, serveHelp } from './help.js';
export { defaultIssuer } from './issuer.js';
export { type LoadServerConfigOptions, loadServerConfig } from './load.js';
export { REDACTED, redactedConfig, redactUrl } from './redact.js';
export {
  formatValue,
  MIN_ADMIN_PASSWORD_LENGTH,
  SERVER_SETTINGS,
  type ServerSetting,
  type SettingKind,
  type SettingName,
  type SettingValue,
} from './settings.js';
export type {
  AdminAccount,
  ConfigField,
  ConfigSource,
  LogLevel,
  Registration,
  ServerConfig,
} from './types.js';
