import { createMemoryStore } from '../../src/stores/index.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('memory', async () => ({
  store: createMemoryStore(),
  teardown: async () => {},
}));
