// Three OS processes following one PostgreSQL store through LISTEN/NOTIFY. The log is read every
// half second as well, and the bound is 1.5 seconds.
import { describeClusterSuite } from './cluster-suite.js';

describeClusterSuite('PostgreSQL follower, three processes', {
  mode: 'postgres',
  pollInterval: 0.5,
  maxStaleness: 1.5,
});
