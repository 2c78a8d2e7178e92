import type { ServerConfig } from '../config/index.js';
import { type Accounts, createAccounts } from '../users/index.js';
import { openBackend } from './backend.js';

/**
 * The accounts of a deployment without the rest of a server: what `revocable users add` needs to
 * create a user in the store a server uses (or will use), while that server runs or not.
 */
export async function openAccounts(
  config: ServerConfig,
): Promise<{ accounts: Accounts; close(): Promise<void> }> {
  const backend = await openBackend(config);
  return {
    accounts: createAccounts({ users: backend.users, throttle: backend.throttle }),
    close: () => backend.close(),
  };
}
