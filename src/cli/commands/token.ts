import { isRevocableError } from '../../errors/index.js';
import {
  ACCESS_TOKEN_CLAIMS,
  ACCESS_TOKEN_TYP,
  createSigner,
  createVerifier,
  decodeUnverified,
  type KeyRing,
  type SignerOptions,
  type VerifierOptions,
} from '../../jwt/index.js';
import type { Command, OptionSpec, ParsedArgs } from '../args.js';
import { CliError, EXIT_OK, EXIT_REJECTED } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { loadKeyRing } from '../key-file.js';
import { formatJson } from '../output.js';
import { parseDurationOption, parseEpochSeconds, parseJsonObject } from '../values.js';

const NOW: OptionSpec = {
  type: 'string',
  value: 'N',
  help: 'The current time in epoch seconds (default: the system clock)',
};
const TOKEN = { name: 'TOKEN', help: 'The token, or - to read it from stdin' } as const;

/** The words `decode` prints with every result, so that no one mistakes it for a verification. */
export const NOT_VERIFIED_WARNING = 'not verified: do not trust these claims';

function clock(args: ParsedArgs, io: CliIo): () => number {
  const now = args.string('now');
  if (now === undefined) return () => io.now();
  const fixed = parseEpochSeconds(now, '--now');
  return () => fixed;
}

async function readToken(args: ParsedArgs, io: CliIo): Promise<string> {
  const token = args.positional(0);
  if (token !== '-') return token;
  // A pipe or a file ends with a newline that is not part of the token.
  const read = (await io.readStdin()).trim();
  if (read === '') throw new CliError('no token on stdin');
  return read;
}

// A refused or unreadable token is an answer, not a usage error: it goes to stdout as one line of
// JSON, exit 1, so a script keeps parsing what it reads. The code is for scripts, the message for
// people; the library's messages never quote the token or a key, so both are safe to print.
function reject(error: unknown, io: CliIo): number {
  if (!isRevocableError(error)) throw error;
  io.stdout(`${JSON.stringify({ error: error.code, message: error.message })}\n`);
  return EXIT_REJECTED;
}

// The library's own errors here (ERR_KEYRING_NO_ACTIVE_KEY at the first sign) say what is missing
// but not why, nor what to run: the usual cause is a JWKS or a ring whose active key was retired.
function assertCanSign(keys: KeyRing, path: string): void {
  const all = keys.keys();
  if (all.some((key) => key.state === 'active')) return;
  if (!all.some((key) => key.signKey !== null)) {
    throw new CliError(
      `${path} holds no private key (a JWKS or public keys only), so it cannot sign: sign with ` +
        'the key ring that keys generate wrote, and give verifiers the JWKS',
    );
  }
  throw new CliError(
    `${path} has no active key (its keys are verify-only or retired), so it cannot sign: run ` +
      `revocable keys rotate --keys ${path} --out ${path} to add one`,
  );
}

// The accepted values of iss or aud, or null for any: null, not undefined, whether or not the user
// said it was meant, since the CLI prints its own warning rather than the library's.
function scope(args: ParsedArgs, option: string, anyFlag: string): string[] | null {
  const values = args.list(option);
  if (values.length === 0) return null;
  if (args.flag(anyFlag)) throw new CliError(`--${option} and --${anyFlag} contradict each other`);
  return values;
}

const sign: Command = {
  spec: {
    path: 'token sign',
    summary: "Sign a token with the ring's active key",
    description:
      'Prints a JWS compact token signed by the active key of the ring, with iat, exp and a ' +
      'random jti added to the claims. --iss and --aud replace iss and aud in --claims.',
    options: {
      keys: { type: 'string', value: 'FILE', required: true, help: 'The key ring file' },
      claims: {
        type: 'string',
        value: 'JSON',
        help: `The claims, a JSON object without iat and exp (default {})`,
      },
      ttl: {
        type: 'string',
        value: 'DURATION',
        help: 'Lifetime: 600, 30s, 10m, 12h, 7d (default 10m)',
      },
      typ: { type: 'string', value: 'TYP', help: `The header typ (default ${ACCESS_TOKEN_TYP})` },
      iss: { type: 'string', value: 'ISSUER', help: 'The iss claim' },
      aud: {
        type: 'string',
        value: 'AUDIENCE',
        multiple: true,
        help: 'The aud claim; repeat for several',
      },
      now: NOW,
    },
    positionals: [],
  },
  run(args, io) {
    const path = args.required('keys');
    const keys = loadKeyRing(path, io);
    assertCanSign(keys, path);
    const claims = parseJsonObject(args.string('claims') ?? '{}', '--claims');
    if (claims.iat !== undefined || claims.exp !== undefined) {
      // The signer sets both; a value given here would be silently replaced.
      throw new CliError('--claims must not hold iat or exp: use --now and --ttl');
    }
    const options: SignerOptions = { keys, now: clock(args, io) };
    const ttl = args.string('ttl');
    if (ttl !== undefined) options.ttl = parseDurationOption(ttl, '--ttl');
    const typ = args.string('typ');
    if (typ !== undefined) options.typ = typ;
    const iss = args.string('iss');
    if (iss !== undefined) options.issuer = iss;
    const aud = args.list('aud');
    if (aud.length > 0) options.audience = aud.length === 1 ? (aud[0] as string) : aud;
    io.stdout(`${createSigner(options).sign(claims)}\n`);
    return EXIT_OK;
  },
};

const verify: Command = {
  spec: {
    path: 'token verify',
    summary: 'Verify a token and print its claims',
    description:
      'Verifies the signature, the header typ, the payload and the registered claims. Prints the ' +
      'claims as JSON and exits 0, or prints {"error":"<code>","message":"<why>"} and exits 1. ' +
      'The key file may be a key ring or a public JWKS. A typ at+jwt token must carry iss, exp, ' +
      'aud, sub, iat and jti unless --require says otherwise. Without --aud, a token minted for ' +
      'any audience passes (another service of the same issuer included), and without --iss one ' +
      'from any issuer: each prints a warning on stderr unless --any-audience or --any-issuer ' +
      'says it is meant.',
    options: {
      keys: { type: 'string', value: 'FILE', required: true, help: 'The key ring or JWKS file' },
      iss: {
        type: 'string',
        value: 'ISSUER',
        multiple: true,
        help: 'Require iss; repeat to accept several',
      },
      aud: {
        type: 'string',
        value: 'AUDIENCE',
        multiple: true,
        help: 'Require aud to name one of these; repeat to accept several',
      },
      'any-issuer': {
        type: 'boolean',
        help: 'Accept any iss on purpose: no warning without --iss',
      },
      'any-audience': {
        type: 'boolean',
        help: 'Accept any aud on purpose: no warning without --aud',
      },
      typ: {
        type: 'string',
        value: 'TYP',
        help: `The header typ to demand (default ${ACCESS_TOKEN_TYP}); any accepts every typ`,
      },
      'clock-tolerance': {
        type: 'string',
        value: 'DURATION',
        help: 'Clock skew forgiven on exp, nbf and iat (default 0, at most 5m)',
      },
      require: {
        type: 'string',
        value: 'CLAIMS',
        help: `Claims that must be present, comma-separated, or none (default ${ACCESS_TOKEN_CLAIMS.join(',')} for typ ${ACCESS_TOKEN_TYP}, else exp)`,
      },
      now: NOW,
    },
    positionals: [TOKEN],
    rejects: 'the token was refused: {"error":"<code>","message":"<why>"} is on stdout',
  },
  async run(args, io) {
    const options: VerifierOptions = {
      keys: loadKeyRing(args.required('keys'), io),
      now: clock(args, io),
      issuer: scope(args, 'iss', 'any-issuer'),
      audience: scope(args, 'aud', 'any-audience'),
    };
    const typ = args.string('typ');
    if (typ !== undefined) options.typ = typ === 'any' ? null : typ;
    const tolerance = args.string('clock-tolerance');
    if (tolerance !== undefined) {
      options.clockTolerance = parseDurationOption(tolerance, '--clock-tolerance');
    }
    const required = args.string('require');
    if (required !== undefined) {
      options.requiredClaims =
        required.trim() === 'none'
          ? []
          : required
              .split(',')
              .map((claim) => claim.trim())
              .filter((claim) => claim !== '');
    }
    // Made before the token is read: a bad option is a usage error (exit 2), not a refusal.
    const verifier = createVerifier(options);
    const token = await readToken(args, io);
    // The library's process warning is silenced by the nulls above; the CLI says it in its own words.
    if (options.audience === null && !args.flag('any-audience')) {
      io.stderr(
        "revocable: warning: no --aud, so a token minted for any audience passes, another service's " +
          'included; pass --aud AUDIENCE, or --any-audience to accept every audience on purpose\n',
      );
    }
    if (options.issuer === null && !args.flag('any-issuer')) {
      io.stderr(
        'revocable: warning: no --iss, so a token from any issuer whose key is in the key file ' +
          'passes; pass --iss ISSUER, or --any-issuer to accept every issuer on purpose\n',
      );
    }
    let claims: unknown;
    try {
      claims = verifier.verify(token);
    } catch (error) {
      return reject(error, io);
    }
    io.stdout(formatJson(claims));
    return EXIT_OK;
  },
};

const decode: Command = {
  spec: {
    path: 'token decode',
    summary: "Print a token's header and claims WITHOUT verifying anything",
    description:
      'Prints the header and claims of a token for debugging. Nothing is verified: not the ' +
      'signature, not the expiry, not the issuer. Never trust what it prints. A token that cannot ' +
      'be read prints {"error":"<code>"} and exits 1.',
    options: {},
    positionals: [TOKEN],
    rejects: 'the token could not be read: {"error":"<code>"} is on stdout',
  },
  async run(args, io) {
    const token = await readToken(args, io);
    let decoded: ReturnType<typeof decodeUnverified>;
    try {
      decoded = decodeUnverified(token);
    } catch (error) {
      return reject(error, io);
    }
    const { header, claims } = decoded;
    io.stdout(formatJson({ verified: false, warning: NOT_VERIFIED_WARNING, header, claims }));
    return EXIT_OK;
  },
};

/** The `token` commands, in the order help lists them. */
export const TOKEN_COMMANDS: readonly Command[] = [sign, verify, decode];
