import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isRevocableError } from '../../src/errors/index.js';
import type { KeyRingStore } from '../../src/stores/index.js';

/** One empty backing store (a file, a schema, a prefix) and more handles on it. */
export interface FreshKeyRingStore {
  store: KeyRingStore;
  /** Another handle (connection, client) on the same backing store. */
  another(): Promise<KeyRingStore>;
}

/** How a suite makes empty stores and disposes of them. */
export interface KeyRingStoreSetup {
  fresh(): Promise<FreshKeyRingStore>;
  teardown(): Promise<void>;
}

function sealedText(label: string): string {
  // Shaped like a sealed ring; the stores never read it.
  return `revocable.keyring.v1.${Buffer.from(label).toString('base64url')}.AAAA.BBBB`;
}

/**
 * The behaviour every key ring store must have: load and revision of an empty store, the
 * compare-and-set (one winner among concurrent saves, nothing written by a loser), and the same
 * refusals of bad input.
 */
export function describeKeyRingStoreContract(
  name: string,
  setup: () => Promise<KeyRingStoreSetup | string>,
): void {
  describe(`key ring store contract: ${name}`, () => {
    let shared: KeyRingStoreSetup | string | undefined;
    before(async () => {
      shared = await setup();
    });
    after(async () => {
      if (typeof shared === 'object') await shared.teardown();
    });
    function test(title: string, body: (fresh: FreshKeyRingStore) => Promise<void>) {
      it(title, async (t) => {
        if (typeof shared === 'string') return t.skip(shared);
        await body(await (shared as KeyRingStoreSetup).fresh());
      });
    }

    test('an empty store loads null at revision 0', async ({ store }) => {
      assert.equal(await store.load(), null);
      assert.equal(await store.revision(), 0);
    });

    test('saves move the revision on by one, each against the one before', async ({ store }) => {
      assert.equal(await store.save(0, sealedText('one')), true);
      assert.deepEqual(await store.load(), { revision: 1, sealed: sealedText('one') });
      assert.equal(await store.revision(), 1);
      assert.equal(await store.save(0, sealedText('again')), false);
      assert.equal(await store.save(2, sealedText('ahead')), false);
      assert.equal(await store.save(1, sealedText('two')), true);
      assert.deepEqual(await store.load(), { revision: 2, sealed: sealedText('two') });
      assert.equal(await store.save(1, sealedText('late')), false);
      assert.deepEqual(await store.load(), { revision: 2, sealed: sealedText('two') });
    });

    test('20 concurrent first saves: exactly one wins and its text is the one kept', async ({
      store,
    }) => {
      const texts = Array.from({ length: 20 }, (_, i) => sealedText(`first-${i}`));
      const outcomes = await Promise.all(texts.map((text) => store.save(0, text)));
      assert.equal(outcomes.filter(Boolean).length, 1);
      const loaded = await store.load();
      assert.deepEqual(loaded, { revision: 1, sealed: texts[outcomes.indexOf(true)] });
    });

    test('20 concurrent saves on one revision through separate handles: exactly one wins', async ({
      store: first,
      another,
    }) => {
      assert.equal(await first.save(0, sealedText('base')), true);
      const handles = [first, ...(await Promise.all(Array.from({ length: 4 }, () => another())))];
      const texts = Array.from({ length: 20 }, (_, i) => sealedText(`next-${i}`));
      const outcomes = await Promise.all(
        texts.map((text, i) => handles[i % handles.length]!.save(1, text)),
      );
      assert.equal(outcomes.filter(Boolean).length, 1);
      assert.deepEqual(await first.load(), {
        revision: 2,
        sealed: texts[outcomes.indexOf(true)],
      });
    });

    test('a large sealed ring is kept byte for byte', async ({ store }) => {
      const text = `revocable.keyring.v1.${'A'.repeat(600_000)}.B.C`;
      assert.equal(await store.save(0, text), true);
      assert.equal((await store.load())?.sealed, text);
    });

    test('bad input is refused with ERR_INVALID_ARGUMENT and nothing is written', async ({
      store,
    }) => {
      const bad: Array<[unknown, unknown]> = [
        [-1, sealedText('x')],
        [1.5, sealedText('x')],
        ['0', sealedText('x')],
        [Number.NaN, sealedText('x')],
        [0, ''],
        [0, 42],
        [0, 'with space'],
        [0, 'caf\u00e9'],
        [0, 'a'.repeat(4_000_001)],
      ];
      for (const [revision, sealed] of bad) {
        await assert.rejects(store.save(revision as number, sealed as string), (error: unknown) =>
          isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
        );
      }
      assert.equal(await store.load(), null);
    });
  });
}
