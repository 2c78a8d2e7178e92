import type Database from 'better-sqlite3';
import { invalidArgument } from '../internal/validate.js';
import type { SqliteDatabase } from './driver-types.js';

/** Refuses anything but an open better-sqlite3 database (a closed one fails late and obscurely). */
export function checkDatabase(database: unknown): asserts database is SqliteDatabase {
  const candidate = database as Partial<SqliteDatabase> | null | undefined;
  if (typeof candidate?.prepare !== 'function' || typeof candidate.transaction !== 'function') {
    throw invalidArgument('database must be a better-sqlite3 Database.');
  }
  if (candidate.open !== true) {
    throw invalidArgument('database is closed.');
  }
}

/**
 * The database as better-sqlite3's own type, for the statements' typed results. Public signatures
 * take the structural {@link SqliteDatabase} (so that they need no `@types/better-sqlite3`);
 * inside, what checkDatabase accepted is a better-sqlite3 Database.
 */
export function driverDatabase(database: SqliteDatabase): Database.Database {
  return database as unknown as Database.Database;
}
