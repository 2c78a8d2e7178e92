import type { Command } from '../args.js';
import { CliError, EXIT_OK } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { formatJson } from '../output.js';

const add: Command = {
  spec: {
    path: 'users add',
    summary: 'Create a user of the auth server (with --admin: make sure it is an admin)',
    description:
      "Creates a user in the auth server's store: the SQLite database of --data, or the cluster " +
      'of DATABASE_URL (with REVOCABLE_PG_SCHEMA). The password is read from stdin (one line), so ' +
      'it never shows in the process list or the shell history. With --admin an existing user ' +
      'is made an admin and given this password. The server may be running meanwhile.',
    options: {
      admin: { type: 'boolean', help: 'Give the user the admin role' },
      data: {
        type: 'string',
        value: 'DIR',
        help: 'The data directory of a single server (default: ./data, or REVOCABLE_DATA_DIR)',
      },
    },
    positionals: [{ name: 'USERNAME', help: 'Letters, digits and . _ - @, at most 64' }],
  },
  async run(args, io: CliIo) {
    const username = args.positional(0);
    const password = (await io.readStdin()).replace(/\r?\n$/, '');
    if (password === '')
      throw new CliError(
        'no password on stdin (for example: echo "$PASSWORD" | revocable users add NAME)',
      );
    const data = args.string('data');
    const { loadServerConfig } = await import('../../server/config/index.js');
    const config = loadServerConfig({
      argv: data === undefined ? [] : ['--data', data],
      env: process.env,
      cwd: process.cwd(),
    });
    if (config === 'help') return EXIT_OK;
    const { openAccounts } = await import('../../server/runtime/open-accounts.js');
    const accounts = await openAccounts(config);
    try {
      const user = args.flag('admin')
        ? (await accounts.accounts.ensureAdmin(username, password)).user
        : await accounts.accounts.register(username, password);
      io.stdout(formatJson({ id: user.id, username: user.username, roles: user.roles }));
      return EXIT_OK;
    } finally {
      await accounts.close();
    }
  },
};

/** The `users` commands. */
export const USER_COMMANDS: readonly Command[] = [add];
