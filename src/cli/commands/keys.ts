import { type Algorithm, type JwtKey, KeyRing } from '../../jwt/index.js';
import type { Command, OptionSpec, ParsedArgs } from '../args.js';
import { CliError, EXIT_OK } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { loadKeyRing } from '../key-file.js';
import { formatJson } from '../output.js';
import { parseAlgorithm } from '../values.js';

const KEYS: OptionSpec = {
  type: 'string',
  value: 'FILE',
  required: true,
  help: 'The key ring file, as keys generate prints it',
};
const OUT: OptionSpec = {
  type: 'string',
  value: 'FILE',
  help: 'Write the ring to FILE (mode 0600, replaced whole) instead of stdout',
};
const ALG_HELP = 'EdDSA (default), ES256/384/512, RS256/384/512, PS256/384/512, HS256/384/512';

// A ring holds private keys and HMAC secrets: it goes to stdout, or to a file only its owner reads.
// What was written is said on stderr, so stdout stays empty for scripts that capture it.
function writeRing(ring: KeyRing, args: ParsedArgs, io: CliIo): number {
  const text = formatJson(ring.toJSON());
  const out = args.string('out');
  if (out === undefined) {
    io.stdout(text);
    return EXIT_OK;
  }
  try {
    io.writeSecretFile(out, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code ?? 'failed';
    throw new CliError(`cannot write ${out}: ${code}`);
  }
  const keys = ring.keys();
  const active = keys.find((key) => key.state === 'active');
  const signer = active === undefined ? 'no active key' : `active ${active.kid} (${active.alg})`;
  io.stderr(
    `revocable: wrote ${out} (mode 0600): a key ring of ${keys.length} key${keys.length === 1 ? '' : 's'}, ${signer}\n`,
  );
  return EXIT_OK;
}

function keyOptions(args: ParsedArgs, io: CliIo): { now: () => number; kid?: string } {
  const kid = args.string('kid');
  const now = () => io.now();
  return kid === undefined ? { now } : { now, kid };
}

// After the active key was retired, `keys rotate` is what retire and sign tell people to run: it
// must work as written, so it takes the algorithm of the newest private key rather than demanding
// --alg. A public JWKS still needs --alg: rotating one into a signing ring should be deliberate.
function fallbackAlgorithm(ring: KeyRing): Algorithm | undefined {
  let newest: JwtKey | undefined;
  for (const key of ring.keys()) {
    if (key.state === 'active') return undefined;
    if (key.signKey !== null && (newest === undefined || key.createdAt >= newest.createdAt)) {
      newest = key;
    }
  }
  return newest?.alg;
}

const generate: Command = {
  spec: {
    path: 'keys generate',
    summary: 'Make a new key ring with one active key',
    description:
      'Prints a new key ring as JSON, with one active key. The ring holds the private key (or ' +
      'the HMAC secret): keep it secret, and give verifiers the output of keys jwks instead.',
    options: {
      alg: { type: 'string', value: 'ALG', help: ALG_HELP },
      kid: { type: 'string', value: 'KID', help: 'Key id (default: 128 random bits)' },
      out: OUT,
      force: {
        type: 'boolean',
        help: 'With --out, replace an existing file (its keys are lost: tokens they signed die)',
      },
    },
    positionals: [],
  },
  run(args, io) {
    const alg = parseAlgorithm(args.string('alg') ?? 'EdDSA');
    const out = args.string('out');
    // A new ring over an old one loses its keys for good: every token they signed stops verifying.
    if (out !== undefined && !args.flag('force') && io.exists(out)) {
      throw new CliError(
        `${out} exists already: a new ring would replace its keys. Use keys rotate --keys ${out} --out ${out} to add a key, or --force to replace it`,
      );
    }
    return writeRing(KeyRing.generate(alg, keyOptions(args, io)), args, io);
  },
};

const rotate: Command = {
  spec: {
    path: 'keys rotate',
    summary: 'Add a new active key; the old active key only verifies',
    description:
      'Reads a ring, adds a new active key and demotes the old active key to verify-only, so ' +
      'the tokens it signed stay valid until they expire. Prints the new ring.',
    options: {
      keys: KEYS,
      alg: {
        type: 'string',
        value: 'ALG',
        help: 'Algorithm of the new key (default: that of the active key, else of the newest key)',
      },
      kid: { type: 'string', value: 'KID', help: 'Key id of the new key (default: random)' },
      out: OUT,
    },
    positionals: [],
  },
  run(args, io) {
    const ring = loadKeyRing(args.required('keys'), io);
    const alg = args.string('alg');
    ring.rotate(
      alg === undefined ? fallbackAlgorithm(ring) : parseAlgorithm(alg),
      keyOptions(args, io),
    );
    return writeRing(ring, args, io);
  },
};

const retire: Command = {
  spec: {
    path: 'keys retire',
    summary: 'Retire a key: every token it signed is refused',
    description:
      'Reads a ring, retires the key with --kid and prints the new ring. Verifiers refuse every ' +
      'token that key signed (ERR_JWT_KEY_RETIRED) once they load the new ring. This is the ' +
      'lever for a leaked key; retiring the active key leaves no signer until keys rotate.',
    options: {
      keys: KEYS,
      kid: { type: 'string', value: 'KID', required: true, help: 'Key id of the key to retire' },
      out: OUT,
    },
    positionals: [],
  },
  run(args, io) {
    const ring = loadKeyRing(args.required('keys'), io);
    ring.retire(args.required('kid'));
    const status = writeRing(ring, args, io);
    if (!ring.keys().some((key) => key.state === 'active')) {
      io.stderr(
        'revocable: warning: the ring has no active key now; run keys rotate to sign again\n',
      );
    }
    return status;
  },
};

const list: Command = {
  spec: {
    path: 'keys list',
    summary: 'List the keys of a ring, without key material',
    description:
      'Prints each key of a ring or JWKS as JSON: kid, alg, state, created (epoch seconds) and ' +
      'whether the file holds its private part. Nothing secret is printed.',
    options: { keys: { ...KEYS, help: 'The key ring or JWKS file' } },
    positionals: [],
  },
  run(args, io) {
    const ring = loadKeyRing(args.required('keys'), io);
    const keys = ring.keys().map((key) => ({
      kid: key.kid,
      alg: key.alg,
      state: key.state,
      created: key.createdAt,
      private: key.signKey !== null,
    }));
    io.stdout(formatJson({ keys }));
    return EXIT_OK;
  },
};

const jwks: Command = {
  spec: {
    path: 'keys jwks',
    summary: 'Print the public JWKS of a ring',
    description:
      'Prints the public keys of every key that is not retired, as a JWKS safe to publish (for ' +
      'example at /.well-known/jwks.json). HMAC secrets are never published.',
    options: { keys: KEYS },
    positionals: [],
  },
  run(args, io) {
    const set = loadKeyRing(args.required('keys'), io).jwks();
    io.stdout(formatJson(set));
    if (set.keys.length === 0) {
      io.stderr(
        'revocable: warning: the JWKS is empty: HMAC secrets and retired keys are never published\n',
      );
    }
    return EXIT_OK;
  },
};

/** The `keys` commands, in the order help lists them. */
export const KEY_COMMANDS: readonly Command[] = [generate, rotate, retire, list, jwks];
