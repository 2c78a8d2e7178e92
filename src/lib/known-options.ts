import { RevocableError } from '../errors/revocable-error.js';
import { closestName, shownName } from './suggest.js';

/**
 * The names of an options type, as an object with one member per option, so that the compiler
 * refuses a list that misses one (`{ [K in keyof Required<T>]: true }`).
 */
export type OptionNames<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Throws `ERR_INVALID_ARGUMENT` when `options` has an own member that `known` does not name.
 *
 * A misspelt option is otherwise dropped without a word, and for these options that is a hole, not
 * an inconvenience: `audiance` leaves the audience unchecked, `roles` passed to the guard instead of
 * the route leaves the route open to every caller. The message names the nearest known option.
 */
export function assertKnownOptions(options: object, known: object, owner: string): void {
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(known, name)) continue;
    const names = Object.keys(known);
    const shown = shownName(name);
    const near = shown === null ? null : closestName(shown, names);
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      `${owner} has no option ${shown === null ? 'by that name' : `"${shown}"`}` +
        (near === null ? `; it takes ${names.join(', ')}.` : `: did you mean "${near}"?`),
    );
  }
}
