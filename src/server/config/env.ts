import { closestName } from '../../lib/suggest.js';
import { SERVER_SETTINGS, type SettingName } from './settings.js';

/** The environment, as `process.env` is. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** What the environment said: values by setting, and the problems found. */
export interface ReadEnvironment {
  readonly values: ReadonlyMap<SettingName, string>;
  readonly problems: readonly string[];
}

const KNOWN = SERVER_SETTINGS.map((entry) => entry.env);

/**
 * Reads every setting's variable. An empty variable counts as unset (`REDIS_URL=` in a compose
 * file turns Redis off rather than failing). A `REVOCABLE_...` variable that is no setting is a
 * problem, with the closest name: a misspelt variable would otherwise be ignored in silence, and
 * the server would run with a default the operator believes they changed.
 */
export function readEnvironment(env: Environment): ReadEnvironment {
  const values = new Map<SettingName, string>();
  for (const entry of SERVER_SETTINGS) {
    const value = env[entry.env];
    if (value !== undefined && value !== '') values.set(entry.name, value);
  }
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('REVOCABLE_') || KNOWN.includes(name) || env[name] === undefined) continue;
    const near = closestName(name, KNOWN);
    const hint = near === null ? '' : ` (did you mean ${near}?)`;
    problems.push(`${name} is not a setting of revocable serve${hint}`);
  }
  return { values, problems };
}
