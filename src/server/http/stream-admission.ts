import { RevocableError } from '../../errors/revocable-error.js';
import { positiveInteger } from '../../lib/positive-integer.js';
import { addressKey } from '../users/throttle/keys.js';

/** How many revocation streams one process serves at once. */
export interface StreamLimits {
  /** In all. */
  readonly total: number;
  /** From one client address (an IPv6 address counts by its /64, as the login limit does). */
  readonly perAddress: number;
}

/** The seconds a refused client is told to wait: a resource server's own back-off is longer. */
export const STREAM_RETRY_AFTER = 5;

/**
 * A stream refused because the process serves as many as it may, in all or from the client's
 * address. `code` is `ERR_STREAM_LIMIT` (503); `retryAfter` is what the `Retry-After` header says.
 */
export class StreamLimitError extends RevocableError {
  readonly retryAfter = STREAM_RETRY_AFTER;

  constructor(message: string) {
    super('ERR_STREAM_LIMIT', message);
  }

  override get name(): string {
    return 'StreamLimitError';
  }
}

/** The places of the open streams. */
export interface StreamAdmission {
  /**
   * Takes a place for a stream from `address` and returns what gives it back (idempotent), or
   * throws {@link StreamLimitError} when the process or the address has none left.
   */
  admit(address: string): () => void;
  /** The streams open now. */
  readonly open: number;
}

/**
 * Counts the open revocation streams of a process against its limits. Each open stream costs a
 * socket and, while it catches up, a page of the log in memory; without a bound, clients that
 * open streams and never read them could take the process's memory and file descriptors, and
 * with them every other route.
 *
 * @example
 * ```ts
 * const admission = createStreamAdmission({ total: 1000, perAddress: 32 });
 * const release = admission.admit(request.ip); // throws StreamLimitError when full
 * stream.closed.then(release);
 * ```
 */
export function createStreamAdmission(limits: StreamLimits): StreamAdmission {
  const total = positiveInteger(limits.total, 'total');
  const perAddress = positiveInteger(limits.perAddress, 'perAddress');
  const byAddress = new Map<string, number>();
  let open = 0;

  return {
    admit(address) {
      const key = addressKey(address);
      const fromAddress = byAddress.get(key) ?? 0;
      if (open >= total) {
        throw new StreamLimitError(
          `This server serves ${total} revocation streams, its limit: retry in ${STREAM_RETRY_AFTER} seconds.`,
        );
      }
      if (fromAddress >= perAddress) {
        throw new StreamLimitError(
          `Your address has ${perAddress} revocation streams open, the limit of one address: retry in ${STREAM_RETRY_AFTER} seconds.`,
        );
      }
      open++;
      byAddress.set(key, fromAddress + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        open--;
        const left = (byAddress.get(key) ?? 1) - 1;
        if (left === 0) byAddress.delete(key);
        else byAddress.set(key, left);
      };
    },
    get open() {
      return open;
    },
  };
}
