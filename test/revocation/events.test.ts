import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createGlobalRevocation,
  createKeyRevocation,
  createRevocationEvent,
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
  MAX_EVENT_TIME,
  newRevocationEventId,
  parseRevocationEvent,
  parseRevocationEventJson,
  type RevocationEvent,
  serializeRevocationEvent,
} from '../../src/revocation/index.js';
import { LIFETIME, manualClock, SKEW, T0, throwsCode, timingFor } from './helpers.js';

const valid = {
  v: 1,
  id: 'pVv1wX3p2m3bLmJ8c1E0Jg',
  kind: 'session',
  target: 'sid-1',
  at: T0,
  until: T0 + LIFETIME + SKEW,
};

describe('revocation event helpers', () => {
  const now = manualClock(T0 + 0.25);
  const timing = timingFor(now);

  it('token: until is the token exp; at is now', () => {
    const event = createTokenRevocation({ jti: 'j1', exp: T0 + 300 }, { now });
    assert.deepEqual(
      { ...event, id: '' },
      {
        v: 1,
        id: '',
        kind: 'token',
        target: 'j1',
        at: T0 + 0.25,
        until: T0 + 300,
      },
    );
    assert.match(event.id, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(Object.isFrozen(event));
  });

  it('token: an exp before at gives until = at; a missing exp is refused', () => {
    assert.equal(createTokenRevocation({ jti: 'j1', exp: T0 - 10 }, { now }).until, T0 + 0.25);
    throwsCode(
      () => createTokenRevocation({ jti: 'j1', exp: Number.NaN }, { now }),
      'ERR_REVOCATION_EVENT_INVALID',
    );
  });

  it('session, subject, global: until = at + longest lifetime + skew', () => {
    const until = T0 + 0.25 + LIFETIME + SKEW;
    const session = createSessionRevocation({ sid: 's1' }, timing);
    assert.equal(session.kind, 'session');
    assert.equal(session.target, 's1');
    assert.equal(session.until, until);
    const subject = createSubjectRevocation({ sub: 'u1', gen: 7 }, timing);
    assert.equal(subject.gen, 7);
    assert.equal(subject.until, until);
    assert.ok(!('gen' in createSubjectRevocation({ sub: 'u1' }, timing)));
    const global = createGlobalRevocation({ at: T0 }, timing);
    assert.equal(global.target, '');
    assert.equal(global.at, T0);
    assert.equal(global.until, T0 + LIFETIME + SKEW);
  });

  it('key: until is the latest event time, so the log keeps it as long as any ring may hold it', () => {
    const key = createKeyRevocation({ kid: 'k1' }, timing);
    assert.equal(key.kind, 'key');
    assert.equal(key.target, 'k1');
    assert.equal(key.at, T0 + 0.25);
    assert.equal(key.until, MAX_EVENT_TIME);
    const made = createRevocationEvent({ kind: 'key', target: 'k1', at: T0 }, timing);
    assert.equal(made.until, MAX_EVENT_TIME);
  });

  it('helpers refuse targets and ids that are not well-formed UTF-16', () => {
    for (const target of ['user\ud800', '\udc00', 'a\ud83d', '\ude00\ud83d']) {
      throwsCode(
        () => createSessionRevocation({ sid: target }, timing),
        'ERR_REVOCATION_EVENT_INVALID',
      );
      throwsCode(
        () => createTokenRevocation({ jti: target, exp: T0 + 60 }, { now }),
        'ERR_REVOCATION_EVENT_INVALID',
      );
      throwsCode(
        () => createSubjectRevocation({ sub: target }, timing),
        'ERR_REVOCATION_EVENT_INVALID',
      );
      throwsCode(
        () => createKeyRevocation({ kid: target }, timing),
        'ERR_REVOCATION_EVENT_INVALID',
      );
      throwsCode(
        () => createSessionRevocation({ sid: 's', id: target }, timing),
        'ERR_REVOCATION_EVENT_INVALID',
      );
    }
  });

  it('reads string durations once and still sees a changed timing', () => {
    const at = T0;
    const tenMinutes = { maxAccessTokenLifetime: '10m', clockSkew: '5s', now };
    assert.equal(createSessionRevocation({ sid: 's', at }, tenMinutes).until, at + 605);
    assert.equal(createSessionRevocation({ sid: 's', at }, tenMinutes).until, at + 605);
    tenMinutes.maxAccessTokenLifetime = '1h';
    assert.equal(createSessionRevocation({ sid: 's', at }, tenMinutes).until, at + 3605);
    tenMinutes.clockSkew = '0s';
    assert.equal(createSubjectRevocation({ sub: 'u', at }, tenMinutes).until, at + 3600);
    throwsCode(
      () => createSessionRevocation({ sid: 's' }, { maxAccessTokenLifetime: '10 m' }),
      'ERR_INVALID_ARGUMENT',
    );
    throwsCode(() => createSessionRevocation({ sid: 's' }, null as never), 'ERR_INVALID_ARGUMENT');
    throwsCode(() => createSessionRevocation(null as never, timing), 'ERR_INVALID_ARGUMENT');
    throwsCode(() => createTokenRevocation(undefined as never, { now }), 'ERR_INVALID_ARGUMENT');
  });

  it('createRevocationEvent dispatches on kind, takes at and id, and validates', () => {
    const event = createRevocationEvent(
      { kind: 'subject', target: 'u2', gen: 3, at: T0, id: 'fixed' },
      { maxAccessTokenLifetime: '10m', clockSkew: '30s' },
    );
    assert.deepEqual(event, {
      v: 1,
      id: 'fixed',
      kind: 'subject',
      target: 'u2',
      at: T0,
      until: T0 + 630,
      gen: 3,
    });
    throwsCode(
      () => createRevocationEvent({ kind: 'session', target: '' }, timing),
      'ERR_REVOCATION_EVENT_INVALID',
    );
    throwsCode(
      () => createSessionRevocation({ sid: 's' }, { maxAccessTokenLifetime: 'forever' }),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('event ids are 128 random bits in base64url, distinct across refills of the pool', () => {
    // More ids than one pool holds (1024), so the refill is crossed.
    const ids = new Set(Array.from({ length: 3000 }, () => newRevocationEventId()));
    assert.equal(ids.size, 3000);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
  });
});

describe('parseRevocationEvent', () => {
  it('returns a frozen copy and never mutates its input', () => {
    const input = Object.freeze({ ...valid });
    const event = parseRevocationEvent(input);
    assert.notEqual(event, input);
    assert.deepEqual(event, valid);
    assert.ok(Object.isFrozen(event));
    const mutable = { ...valid, kind: 'subject', gen: 2 };
    const copy = structuredClone(mutable);
    parseRevocationEvent(mutable);
    assert.deepEqual(mutable, copy);
  });

  it('accepts each kind, a 256-character target, and fractional times', () => {
    for (const kind of ['token', 'session', 'subject', 'key']) {
      assert.equal(parseRevocationEvent({ ...valid, kind }).kind, kind);
    }
    assert.equal(parseRevocationEvent({ ...valid, kind: 'global', target: '' }).kind, 'global');
    assert.equal(parseRevocationEvent({ ...valid, target: 'x'.repeat(256) }).target.length, 256);
    assert.equal(parseRevocationEvent({ ...valid, at: T0 + 0.5 }).at, T0 + 0.5);
    assert.equal(parseRevocationEvent({ ...valid, kind: 'subject', gen: 0 }).kind, 'subject');
  });

  it('accepts well-formed targets of any script, astral characters and a leading BOM', () => {
    for (const target of ['ü-ñ-中文', '😀', '\ufeffu', 'a\u00a0b', '\ud83d\ude00'.repeat(128)]) {
      assert.equal(parseRevocationEvent({ ...valid, target }).target, target);
    }
  });

  it('an event made here is known valid: parse returns it as is; a copy is checked again', () => {
    const event = createSessionRevocation({ sid: 's1' }, { maxAccessTokenLifetime: 60 });
    assert.equal(parseRevocationEvent(event), event);
    assert.ok(Object.isFrozen(event));
    assert.deepEqual(Reflect.ownKeys(event), ['v', 'id', 'kind', 'target', 'at', 'until']);
    const parsed = parseRevocationEvent({ ...valid });
    assert.equal(parseRevocationEvent(parsed), parsed);
    throwsCode(
      () => parseRevocationEvent({ ...event, target: 'x\ud800' }),
      'ERR_REVOCATION_EVENT_INVALID',
    );
    throwsCode(
      () => parseRevocationEvent(structuredClone({ ...event, until: event.at - 1 })),
      'ERR_REVOCATION_EVENT_INVALID',
    );
  });

  const bad: [string, unknown][] = [
    ['null', null],
    ['a string', JSON.stringify(valid)],
    ['an array', [valid]],
    ['an unknown version', { ...valid, v: 2 }],
    ['no version', { ...valid, v: undefined }],
    ['an unknown kind', { ...valid, kind: 'user' }],
    ['a kind of the wrong type', { ...valid, kind: 1 }],
    ['no id', { ...valid, id: undefined }],
    ['an empty id', { ...valid, id: '' }],
    ['an oversized id', { ...valid, id: 'i'.repeat(129) }],
    ['no target', { ...valid, target: undefined }],
    ['an empty target', { ...valid, target: '' }],
    ['an oversized target', { ...valid, target: 'x'.repeat(257) }],
    ['a numeric target', { ...valid, target: 42 }],
    ['a target with a lone high surrogate', { ...valid, target: 'user\ud800' }],
    ['a target with a lone low surrogate', { ...valid, target: '\udc00user' }],
    ['a target with reversed surrogates', { ...valid, target: '\ude00\ud83d' }],
    ['a subject with a lone surrogate', { ...valid, kind: 'subject', target: '\ud800' }],
    ['a kid with a lone surrogate', { ...valid, kind: 'key', target: 'kid\udbff' }],
    ['an id with a lone surrogate', { ...valid, id: 'id\ud800' }],
    ['a global event with a target', { ...valid, kind: 'global', target: 'x' }],
    ['a global event without target', { ...valid, kind: 'global', target: undefined }],
    ['at NaN', { ...valid, at: Number.NaN }],
    ['at Infinity', { ...valid, at: Number.POSITIVE_INFINITY }],
    ['a negative at', { ...valid, at: -1 }],
    ['at as a string', { ...valid, at: String(T0) }],
    ['until beyond the year 3000', { ...valid, until: MAX_EVENT_TIME + 1 }],
    ['until before at', { ...valid, until: T0 - 1 }],
    ['gen on a session event', { ...valid, gen: 1 }],
    ['a negative gen', { ...valid, kind: 'subject', gen: -1 }],
    ['a fractional gen', { ...valid, kind: 'subject', gen: 1.5 }],
    ['a string gen', { ...valid, kind: 'subject', gen: '2' }],
    ['an unknown member', { ...valid, kind: 'subject', generation: 2 }],
    ['inherited members', Object.create(valid)],
  ];
  for (const [what, value] of bad) {
    it(`refuses ${what} with ERR_REVOCATION_EVENT_INVALID`, () => {
      const before = JSON.stringify(value);
      throwsCode(() => parseRevocationEvent(value), 'ERR_REVOCATION_EVENT_INVALID');
      assert.equal(JSON.stringify(value), before, 'the input is not mutated');
    });
  }

  it('JSON text: parses, and refuses malformed JSON with the SyntaxError as cause', () => {
    const event = parseRevocationEventJson(JSON.stringify(valid));
    assert.deepEqual(event, valid);
    assert.throws(
      () => parseRevocationEventJson('{"v":1,'),
      (error: unknown) =>
        error instanceof Error &&
        (error as { code?: string }).code === 'ERR_REVOCATION_EVENT_INVALID' &&
        error.cause instanceof SyntaxError,
    );
  });

  it('serializes in a fixed member order and round-trips', () => {
    const event = parseRevocationEvent({
      gen: 4,
      until: T0 + 9,
      at: T0,
      target: 'u',
      kind: 'subject',
      id: 'e',
      v: 1,
    });
    const text = serializeRevocationEvent(event);
    assert.equal(
      text,
      `{"v":1,"id":"e","kind":"subject","target":"u","at":${T0},"until":${T0 + 9},"gen":4}`,
    );
    assert.deepEqual(parseRevocationEventJson(text), event);
    throwsCode(
      () => serializeRevocationEvent({ ...event, v: 9 } as unknown as RevocationEvent),
      'ERR_REVOCATION_EVENT_INVALID',
    );
  });
});
