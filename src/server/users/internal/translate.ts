import { storeUnavailable } from '../../../stores/internal/driver-errors.js';

/**
 * The one place where a store's driver failures become revocable's: every method of `target`
 * reports what it throws through `storeUnavailable` (revocable's own errors pass unchanged, a
 * driver's become `ERR_STORE_UNAVAILABLE` with the driver error as cause). Internal: never
 * exported from the package.
 *
 * @example
 * ```ts
 * return translateStoreFailures('The SQLite user store', store);
 * ```
 */
export function translateStoreFailures<T extends object>(backend: string, target: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(target)) {
    if (typeof member !== 'function') {
      wrapped[name] = member;
      continue;
    }
    const method = member as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method.apply(target, args);
      } catch (error) {
        throw storeUnavailable(backend, error);
      }
    };
  }
  return wrapped as T;
}
