// Three OS processes following one PostgreSQL store by polling its log every 100 ms, with no bus;
// the bound is 1 second.
import { describeClusterSuite } from './cluster-suite.js';

describeClusterSuite('polling follower, three processes', {
  mode: 'polling',
  pollInterval: 0.1,
  maxStaleness: 1,
});
