import { after, before, describe } from 'node:test';
import type { Store } from '../../src/stores/index.js';
import type { ContractContext, StoreSetup } from './contract/fixtures.js';
import { describeInputContract } from './contract/input.js';
import { describeLogContract } from './contract/log.js';
import { describeRevocationContract } from './contract/revocation.js';
import { describeRotationContract } from './contract/rotation.js';
import { describeSessionContract } from './contract/sessions.js';

export {
  type ContractContext,
  createIn,
  expectCode,
  makeGlobalEvent,
  makeKeyEvent,
  makeRotation,
  makeSession,
  makeSessionEvent,
  makeSubjectEvent,
  makeTokenEvent,
  RICH_CLAIMS,
  randomId,
  randomSub,
  rotateIn,
  type StoreSetup,
  T_PRECISE,
  T0,
  TIMING,
  withFreshStore,
} from './contract/fixtures.js';

/**
 * The contract every store passes, against the real backend: each method and each rule of
 * src/stores/types.ts, the atomic compare-and-set operations under concurrency, and bad input that
 * is refused with a typed error and changes nothing.
 *
 * `setup` is called once for the store most tests share (every test uses fresh random sids and
 * subs, so that store may also hold other data), and once more by each test that needs an empty
 * store of its own (exact log positions, prune counts): each call must return a store with its own
 * empty data (a new database file, table prefix, schema or key prefix) and a teardown that removes
 * it.
 *
 * @example
 * ```ts
 * describeStoreContract('memory', async () => ({
 *   store: createMemoryStore(),
 *   teardown: async () => {},
 * }));
 * ```
 */
export function describeStoreContract(name: string, setup: () => Promise<StoreSetup>): void {
  describe(`store contract: ${name}`, () => {
    let shared: StoreSetup | undefined;
    before(async () => {
      shared = await setup();
    });
    after(async () => {
      await shared?.teardown();
    });
    const context: ContractContext = {
      store(): Store {
        if (shared === undefined) throw new Error('The store is read before the suite set it up.');
        return shared.store;
      },
      fresh: setup,
    };
    describeSessionContract(context);
    describeRotationContract(context);
    describeRevocationContract(context);
    describeLogContract(context);
    describeInputContract(context);
  });
}
