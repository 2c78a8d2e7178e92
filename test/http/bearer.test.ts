import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isRevocableError } from '../../src/errors/index.js';
import {
  assertBearerHeader,
  assertOneAuthorization,
  bearerCandidate,
  bearerToken,
  MAX_AUTHORIZATION_LENGTH,
} from '../../src/http/bearer.js';
import { cookieRepeated, cookieValue } from '../../src/http/cookies.js';

// The rule the scan implements, as the auth server first wrote it.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

// RFC 9110's token characters, less the dot (a bare JWT is no scheme).
const SCHEME_CHARACTERS = new Set("!#$%&'*+-^_`|~0123456789abcdefghijklmnopqrstuvwxyz");

/** Whether the header is a credential of a scheme other than Bearer: a scheme, then a space or nothing. */
function isOtherScheme(header: string): boolean {
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  if (scheme.length === 0 || scheme.startsWith('bearer')) return false;
  return [...scheme].every((character) => SCHEME_CHARACTERS.has(character));
}

function byRegex(header: string): string | null | 'invalid' {
  if (header.length > MAX_AUTHORIZATION_LENGTH) return isOtherScheme(header) ? null : 'invalid';
  const match = BEARER.exec(header);
  if (match !== null) return match[1] as string;
  return isOtherScheme(header) ? null : 'invalid';
}

function byScan(header: string): string | null | 'invalid' {
  try {
    return bearerToken(header);
  } catch (error) {
    assert.ok(isRevocableError(error, 'ERR_AUTH_HEADER_INVALID'), String(error));
    return 'invalid';
  }
}

describe('the Authorization header', () => {
  it('is absent: null', () => {
    assert.equal(bearerToken(undefined), null);
  });

  it('takes one bearer token, any case of the scheme, spaces around', () => {
    assert.equal(bearerToken('Bearer abc.def-_~+/=='), 'abc.def-_~+/==');
    assert.equal(bearerToken('bearer   abc  '), 'abc');
    assert.equal(bearerToken('BEARER abc'), 'abc');
  });

  it('refuses everything else', () => {
    for (const header of [
      '',
      'abc.def.ghi',
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Bearer a,Bearer b',
      'Basic\tYWxhZGRpbjpvcGVuc2VzYW1l',
      'Bearer\tabc',
      'Bearerabc',
      'Bearer abc=def',
      'Bearer é',
      'Bearer abc\n',
      ` Bearer abc`,
      `Bearer ${'a'.repeat(MAX_AUTHORIZATION_LENGTH)}`,
    ]) {
      assert.equal(byScan(header), 'invalid', JSON.stringify(header));
    }
    assert.equal(byScan(['Bearer a', 'Bearer b'] as unknown as string), 'invalid');
  });

  it('takes a credential of another scheme for none (RFC 6750 section 3.1)', () => {
    for (const header of [
      'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
      'basic',
      'DPoP eyJhbGciOiJFUzI1NiJ9.e30.c2ln',
      'Digest username="a", realm="b"',
      'Bear abc',
      'abc',
      'Token é',
    ]) {
      assert.equal(byScan(header), null, JSON.stringify(header));
    }
  });

  it('follows the regular expression on any input (fast-check)', () => {
    const alphabet = fc.constantFrom(...'Bearb eR=.-_~+/,\t\né\u0000aZ9');
    const headers = fc.oneof(
      fc.string(),
      fc.array(alphabet, { maxLength: 30 }).map((chars) => chars.join('')),
      fc
        .tuple(
          fc.constantFrom('Bearer ', 'bEaReR  ', 'Bearer', 'Bearer a', 'Basic ', 'Bear', 'x.y '),
          fc.array(alphabet, { maxLength: 30 }),
        )
        .map(([scheme, chars]) => `${scheme}${chars.join('')}`),
    );
    fc.assert(
      fc.property(headers, (header) => {
        assert.deepEqual(byScan(header), byRegex(header));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("the guard's fast read of the header", () => {
  const outcome = (read: () => unknown): unknown => {
    try {
      return read();
    } catch (error) {
      assert.ok(isRevocableError(error, 'ERR_AUTH_HEADER_INVALID'), String(error));
      return 'invalid';
    }
  };

  it('gives the token bearerToken gives, or refuses, or a candidate that the full check refuses', () => {
    const alphabet = fc.constantFrom(...'Bearb eR=.-_~+/,\t\né\u0000aZ9');
    const headers = fc.oneof(
      fc.string(),
      fc
        .tuple(
          fc.constantFrom('Bearer ', 'bEaReR  ', 'Bearer', 'Bearer a', 'Basic ', 'Bearer\t'),
          fc.array(alphabet, { maxLength: 30 }),
        )
        .map(([scheme, chars]) => `${scheme}${chars.join('')}`),
    );
    fc.assert(
      fc.property(headers, (header) => {
        const strict = outcome(() => bearerToken(header));
        const fast = outcome(() => bearerCandidate(header));
        const full = outcome(() => assertBearerHeader(header));
        if (strict === 'invalid') {
          // Whatever candidate the scheme lets through, the check the guard makes on a failed
          // verify refuses the header.
          assert.equal(full, 'invalid');
        } else {
          assert.equal(fast, strict);
          assert.equal(full, undefined);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses a malformed scheme and an over-long header at once, and reads another scheme as none', () => {
    for (const header of ['Bearerabc', 'Bearer\tabc', ` Bearer abc`, 'abc.def.ghi', 'Basic\tabc']) {
      assert.equal(
        outcome(() => bearerCandidate(header)),
        'invalid',
        JSON.stringify(header),
      );
    }
    for (const header of ['Basic abc', 'Bear abc', 'DPoP abc.def.ghi', 'Negotiate']) {
      assert.equal(bearerCandidate(header), null, JSON.stringify(header));
      assert.equal(assertBearerHeader(header), undefined, JSON.stringify(header));
    }
    const long = `Bearer ${'a'.repeat(MAX_AUTHORIZATION_LENGTH)}`;
    assert.equal(
      outcome(() => bearerCandidate(long)),
      'invalid',
    );
    // However long, a credential of another scheme carries no bearer token (a Negotiate token).
    const negotiate = `Negotiate ${'a'.repeat(MAX_AUTHORIZATION_LENGTH)}`;
    assert.equal(bearerToken(negotiate), null);
    assert.equal(bearerCandidate(negotiate), null);
    assert.equal(assertBearerHeader(negotiate), undefined);
    assert.equal(
      outcome(() => bearerToken(`${'a'.repeat(MAX_AUTHORIZATION_LENGTH)}.b.c`)),
      'invalid',
    );
    assert.equal(bearerCandidate(undefined), null);
  });
});

describe('repeated Authorization lines (rawHeaders)', () => {
  it('refuses a second line whatever the case of its name', () => {
    for (const raw of [
      ['Authorization', 'Bearer a', 'authorization', 'Bearer b'],
      ['AUTHORIZATION', 'Bearer a', 'Host', 'x', 'Authorization', 'Bearer a'],
    ]) {
      assert.throws(
        () => assertOneAuthorization(raw),
        (error) => isRevocableError(error, 'ERR_AUTH_HEADER_INVALID'),
      );
    }
  });

  it('lets one line through, and names of the same length that are not it', () => {
    assertOneAuthorization(undefined);
    assertOneAuthorization([]);
    assertOneAuthorization(['Host', 'x', 'Authorization', 'Bearer a', 'Cache-Control', 'no-cache']);
    assertOneAuthorization(['If-None-Match', '"x"', 'Last-Modified', 'y', 'authorization', 'z']);
  });
});

describe('the Cookie header', () => {
  it('finds the first cookie of a name, as sent', () => {
    const header = 'a=1; __Host-revocable-access=tok.en; b="quoted"; __Host-revocable-access=two';
    assert.equal(cookieValue(header, '__Host-revocable-access'), 'tok.en');
    assert.equal(cookieValue(header, 'b'), 'quoted');
    assert.equal(cookieValue(header, 'a'), '1');
    assert.equal(cookieValue(header, 'revocable-access'), undefined);
    assert.equal(cookieValue('x=; y = 2 ', 'x'), undefined);
    assert.equal(cookieValue('x=; y = 2 ', 'y'), '2');
    assert.equal(cookieValue(['a=1', 'b=2'], 'b'), '2');
    assert.equal(cookieValue(undefined, 'b'), undefined);
    assert.equal(cookieValue('ab=1', 'a'), undefined);
  });

  it('tells a name given twice', () => {
    const header = 'a=1; __Host-revocable-access=tok.en; b="quoted"; __Host-revocable-access=two';
    assert.equal(cookieRepeated(header, '__Host-revocable-access'), true);
    assert.equal(cookieRepeated(header, 'a'), false);
    assert.equal(cookieRepeated(header, 'b'), false);
    assert.equal(cookieRepeated(header, 'c'), false);
    assert.equal(cookieRepeated('a=1;a=2', 'a'), true);
    assert.equal(cookieRepeated(['a=1', ' a = 2'], 'a'), true);
    assert.equal(cookieRepeated('a=1; ab=2; a-b=3', 'a'), false);
    assert.equal(cookieRepeated('a=1;', 'a'), false);
    assert.equal(cookieRepeated(undefined, 'a'), false);
  });
});
