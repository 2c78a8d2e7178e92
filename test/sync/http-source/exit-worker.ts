// Run by auth-server.test.ts in a process of its own: starts a source on the URL given, stops it,
// and then has nothing left to do. The process must exit by itself (exit code 0); a timer or a
// connection the source left behind would keep it running.
import { createRevocationIndex } from '../../../src/revocation/index.js';
import { createHttpRevocationSource } from '../../../src/sync/index.js';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: exit-worker <url>');
const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
const source = createHttpRevocationSource({ url, index, keyRefreshInterval: 1 });
await source.start();
process.stdout.write(`started ${source.health().state}\n`);
// A refresh waiting for its turn, and one in flight, when stop() comes.
const pending = Promise.all([source.refreshKeys(), source.refreshKeys()]);
await source.stop();
await pending;
process.stdout.write(`${source.health().state}\n`);
