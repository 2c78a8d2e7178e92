import type Database from 'better-sqlite3';
import {
  type OpenSqliteDatabaseOptions,
  openSqliteDatabase as openStructural,
} from '../../src/stores/sqlite/index.js';

/**
 * openSqliteDatabase, typed as what it returns: a better-sqlite3 Database. The package declares
 * the structural SqliteDatabase (so that its types need no @types/better-sqlite3); tests that
 * query the file themselves cast it back, as an application would.
 */
export function openSqliteDatabase(
  path: string,
  options?: OpenSqliteDatabaseOptions,
): Database.Database {
  return openStructural(path, options) as Database.Database;
}
