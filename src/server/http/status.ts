/**
 * The status table lives with the HTTP middleware (src/http/status.ts), which answers with the same
 * statuses as this server; one table, re-exported here for the server's own modules and tests.
 */
export { HTTP_STATUS } from '../../http/status.js';
