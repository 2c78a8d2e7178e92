// The seeded draws of the fuzz test, and the credentials it sends: tokens the server must refuse
// (made from one it signed, with a forged alg, kid, header or claims, or signed by an attacker's
// key) and made-up refresh tokens. None is ever one the server would accept.
import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** What the generator knows of the server: ids to aim at, and a real token to forge from. */
export interface FuzzTargets {
  readonly victimSub: string;
  readonly victimSid: string;
  readonly adminSub: string;
  /** A token the server signed: only ever sent altered. */
  readonly victimToken: string;
  /** The server's signing key: its kid and public key (`x` of the JWK). */
  readonly kid: string;
  readonly publicX: string;
}

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Draws from a seeded generator. */
export class Draw {
  constructor(private readonly next: () => number) {}
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  between(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  /** Letters and digits, from the seeded generator (so a case is the same on every run). */
  word(
    length: number,
    alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
}

/** The base64url alphabet. */
export const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function decode(segment: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'));
}

// Keys of an attacker: a valid signature by the wrong key, and a key embedded in the header.
const attacker: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ed25519');
const attackerJwk = attacker.publicKey.export({ format: 'jwk' });

function ed25519(input: string): string {
  return sign(null, Buffer.from(input), attacker.privateKey).toString('base64url');
}

/** A token the server must refuse, made from a real one or from nothing. */
export function forgedToken(d: Draw, t: FuzzTargets): { token: string; how: string } {
  const [h, p, s] = t.victimToken.split('.') as [string, string, string];
  const header = decode(h);
  const payload = decode(p);
  const now = Math.floor(Date.now() / 1000);
  const resign = (head: unknown, body: unknown, how: string) => {
    const input = `${b64(head)}.${b64(body)}`;
    return { token: `${input}.${ed25519(input)}`, how };
  };
  const keep = (head: unknown, body: unknown, how: string) => ({
    token: `${b64(head)}.${b64(body)}.${s}`,
    how,
  });
  switch (d.int(22)) {
    case 0:
      return { token: `${b64({ ...header, alg: 'none' })}.${p}.`, how: 'alg none' };
    case 1: {
      // The classic confusion: HS256 keyed with the server's public key.
      const head = b64({ ...header, alg: 'HS256' });
      const mac = createHmac('sha256', Buffer.from(t.publicX, 'base64url'))
        .update(`${head}.${p}`)
        .digest('base64url');
      return { token: `${head}.${p}.${mac}`, how: 'alg HS256 keyed with the public key' };
    }
    case 2:
      return keep({ ...header, alg: 'RS256' }, payload, 'alg RS256');
    case 3:
      return keep({ ...header, kid: d.word(22, B64URL) }, payload, 'unknown kid');
    case 4:
      return keep({ ...header, kid: '../../../../etc/passwd' }, payload, 'kid path');
    case 5:
      return keep({ ...header, kid: d.word(d.between(200, 1500)) }, payload, 'long kid');
    case 6:
      return keep({ ...header, typ: 'JWT' }, payload, 'typ JWT');
    case 7:
      return keep({ ...header, crit: ['exp'] }, payload, 'crit');
    case 8:
      return resign(
        { ...header, jku: 'http://127.0.0.1:1/jwks.json' },
        payload,
        'jku to a key of the attacker',
      );
    case 9:
      return resign({ ...header, jwk: attackerJwk }, payload, 'embedded jwk of the attacker');
    case 10:
      return resign(header, payload, "the attacker's signature under the server's kid");
    case 11:
      return resign(
        header,
        { ...payload, sub: t.adminSub, roles: ['admin'] },
        'admin claims, signed by the attacker',
      );
    case 12:
      return keep(header, { ...payload, roles: ['admin'] }, 'roles admin, old signature');
    case 13:
      return keep(
        header,
        { ...payload, iat: now - 7200, exp: now - 3600 },
        'expired-looking, old signature',
      );
    case 14:
      return keep(header, { ...payload, exp: now + 10 * 365 * 86400 }, 'exp in 10 years');
    case 15:
      return keep(header, { ...payload, sub: t.adminSub }, 'sub of the admin');
    case 16:
      return { token: `${h}.${p}.${d.word(86, B64URL)}`, how: 'random signature' };
    case 17:
      return { token: `${h}.${p}`, how: 'two segments' };
    case 18:
      return { token: `${h}.${p}.${s}.${s}`, how: 'four segments' };
    case 19:
      return { token: `${h}..${s}`, how: 'empty payload' };
    case 20:
      return {
        token: d.pick(['a.b.c', '..', 'eyJ.eyJ.', 'null', `${b64('[]')}.${b64('1')}.x`, '=']),
        how: 'junk',
      };
    default:
      return keep(header, { ...payload, pad: d.word(d.between(100, 5000)) }, 'a large payload');
  }
}

/** A made-up refresh token: the victim's session id and a random secret, or junk. */
export function madeUpRefreshToken(d: Draw, t: FuzzTargets): string {
  return d.pick([
    `${t.victimSid}.${d.word(43, B64URL)}`,
    `${d.word(22, B64URL)}.${d.word(43, B64URL)}`,
    `${t.victimSid}.`,
    t.victimSid,
    `${t.victimSid}.${d.word(43, B64URL)}.x`,
  ]);
}
