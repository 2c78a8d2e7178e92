import { createMemoryStore } from '../../src/stores/memory-store.js';
import { describeSessionSuite } from './session-suite.js';

describeSessionSuite('the memory store', async () => ({
  store: createMemoryStore(),
  teardown: async () => {},
}));
