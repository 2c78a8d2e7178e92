import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { expressJwtIsRevoked } from '../../src/http/express/index.js';
import { fastifyJwtTrusted } from '../../src/http/fastify/index.js';
import { createTokenGuard } from '../../src/http/index.js';
import { KeyRing } from '../../src/jwt/index.js';
import { createRevocationIndex } from '../../src/revocation/index.js';

const NOW = 1_800_000_000;
const ring = KeyRing.generate('EdDSA', { kid: 'k' });
const scope = { issuer: 'https://auth.example', audience: 'api' };

// Replaced, not listened to: a listener would not stop Node printing the warnings.
let emitted: ReturnType<typeof mock.method<typeof process, 'emitWarning'>>;
beforeEach(() => {
  emitted = mock.method(process, 'emitWarning', () => {});
});
afterEach(() => {
  emitted.mock.restore();
});

function codes(): unknown[] {
  return emitted.mock.calls.map((call) => (call.arguments[1] as { code?: unknown }).code);
}

function index(followed: boolean) {
  const made = createRevocationIndex({ maxAccessTokenLifetime: '10m', now: () => NOW });
  if (followed) made.markFresh(NOW);
  return made;
}

const makers = {
  createTokenGuard: (idx: ReturnType<typeof index>, bound?: { maxStaleness: number }) =>
    createTokenGuard({ keys: ring, index: idx, ...scope, ...bound }),
  expressJwtIsRevoked: (idx: ReturnType<typeof index>, bound?: { maxStaleness: number }) =>
    expressJwtIsRevoked(idx, bound),
  fastifyJwtTrusted: (idx: ReturnType<typeof index>, bound?: { maxStaleness: number }) =>
    fastifyJwtTrusted(idx, bound),
};

describe('a guard or adapter without maxStaleness on an index that follows a source', () => {
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: warns once per index, when made, and names the option`, () => {
      const followed = index(true);
      make(followed);
      make(followed);
      assert.deepEqual(codes(), ['REVOCABLE_UNBOUNDED_STALENESS']);
      const [message, options] = emitted.mock.calls[0]!.arguments as unknown as [
        string,
        { type: string },
      ];
      assert.equal(options.type, 'RevocableWarning');
      assert.match(message, new RegExp(`^${name} was given no maxStaleness.*Give maxStaleness`));
    });

    it(`${name}: is silent with a bound, or for an index nothing marks fresh`, () => {
      make(index(true), { maxStaleness: 5 });
      make(index(false));
      assert.deepEqual(codes(), []);
    });
  }
});
