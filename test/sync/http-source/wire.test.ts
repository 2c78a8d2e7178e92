import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../../src/errors/index.js';
import { createSessionRevocation } from '../../../src/revocation/index.js';
import { parseFeedMessage, parseSnapshot } from '../../../src/sync/http-source/feed-messages.js';
import { type SseMessage, SseParser } from '../../../src/sync/http-source/sse-parser.js';

function parseAll(chunks: readonly string[], maxLength = 1024): SseMessage[] {
  const parser = new SseParser(maxLength);
  const messages: SseMessage[] = [];
  for (const chunk of chunks) parser.push(chunk, (message) => messages.push(message) > 0);
  return messages;
}

function invalidMessage(error: unknown): boolean {
  return isRevocableError(error, 'ERR_SYNC_MESSAGE_INVALID');
}

const EVENT = createSessionRevocation({ sid: 's1' }, { maxAccessTokenLifetime: 600 });

describe('the event stream parser', () => {
  it('reads the messages of the auth server, however the chunks fall', () => {
    const text = `retry: 1000\n\nid: 7\nevent: revocation\ndata: {"a":1}\n\nid: 7\nevent: heartbeat\ndata: {"position":7}\n\n`;
    const expected: SseMessage[] = [
      { id: '7', event: 'revocation', data: '{"a":1}' },
      { id: '7', event: 'heartbeat', data: '{"position":7}' },
    ];
    assert.deepEqual(parseAll([text]), expected);
    // Every split point, and one character at a time.
    for (let i = 0; i <= text.length; i++) {
      assert.deepEqual(parseAll([text.slice(0, i), text.slice(i)]), expected, `split at ${i}`);
    }
    assert.deepEqual(parseAll([...text]), expected);
  });

  it('takes CRLF, CR and LF line ends, even split between chunks', () => {
    const expected: SseMessage[] = [
      { id: '1', event: 'a', data: 'x' },
      { id: undefined, event: 'b', data: 'y' },
    ];
    assert.deepEqual(
      parseAll(['id: 1\r\nevent: a\r\ndata: x\r\n\r\nevent: b\rdata: y\r\r']),
      expected,
    );
    assert.deepEqual(
      parseAll(['id: 1\r', '\nevent: a\r', '\ndata: x\r', '\n\r', '\nevent: b\ndata: y\n\n']),
      expected,
    );
  });

  it('follows the rules of fields: comments, one space, joined data, no data no message', () => {
    const messages = parseAll([
      ': a comment\ndata:no space\ndata:  two spaces\nunknown: x\nretry: 5\n\nid\nevent: only\n\ndata\n\nid: 3\nid: 4\0\ndata: d\n\n',
    ]);
    assert.deepEqual(messages, [
      { id: undefined, event: 'message', data: 'no space\n two spaces' },
      { id: undefined, event: 'message', data: '' },
      // An id holding NUL is ignored.
      { id: '3', event: 'message', data: 'd' },
    ]);
  });

  it('never dispatches a message the stream cut off', () => {
    assert.deepEqual(parseAll(['data: complete\n\ndata: cut off\n']), [
      { id: undefined, event: 'message', data: 'complete' },
    ]);
  });

  it('stops where dispatch says, and bounds lines and messages', () => {
    const parser = new SseParser(1024);
    const seen: string[] = [];
    const more = parser.push('data: 1\n\ndata: 2\n\ndata: 3\n\n', (message) => {
      seen.push(message.data);
      return message.data !== '2';
    });
    assert.equal(more, false);
    assert.deepEqual(seen, ['1', '2']);
    assert.throws(() => parseAll(['data: ', 'x'.repeat(1100)]), invalidMessage);
    assert.throws(
      () => parseAll([`data: ${'x'.repeat(600)}\ndata: ${'x'.repeat(600)}\n`]),
      invalidMessage,
    );
    // Messages before the one too long are dispatched first.
    const before: SseMessage[] = [];
    assert.throws(
      () =>
        new SseParser(64).push(`data: ok\n\ndata: ${'x'.repeat(100)}\n`, (m) => before.push(m) > 0),
      invalidMessage,
    );
    assert.equal(before.length, 1);
  });
});

describe('the messages of the revocation feed', () => {
  it('reads revocations, heartbeats and resets', () => {
    assert.deepEqual(
      parseFeedMessage({ id: '42', event: 'revocation', data: JSON.stringify(EVENT) }),
      { type: 'revocation', position: 42, event: EVENT },
    );
    assert.deepEqual(
      parseFeedMessage({
        id: '42',
        event: 'heartbeat',
        data: '{"position":42,"freshAt":1900000003.25}',
      }),
      { type: 'heartbeat', position: 42, freshAt: 1900000003.25 },
    );
    assert.deepEqual(parseFeedMessage({ id: '', event: 'reset', data: '{"position":17}' }), {
      type: 'reset',
      position: 17,
    });
  });

  it('refuses anything else, whole', () => {
    const refused: SseMessage[] = [
      { id: undefined, event: 'revocation', data: JSON.stringify(EVENT) },
      { id: '-1', event: 'revocation', data: JSON.stringify(EVENT) },
      { id: '1e3', event: 'revocation', data: JSON.stringify(EVENT) },
      { id: '1', event: 'revocation', data: JSON.stringify({ ...EVENT, extra: 1 }) },
      { id: '1', event: 'revocation', data: 'not json' },
      { id: '1', event: 'heartbeat', data: '{"position":2,"freshAt":1}' },
      { id: '1', event: 'heartbeat', data: '{"position":1}' },
      { id: '1', event: 'heartbeat', data: '{"position":1,"freshAt":-1}' },
      { id: '1', event: 'heartbeat', data: '{"position":1,"freshAt":"1"}' },
      { id: '1', event: 'heartbeat', data: '{"position":1,"freshAt":1900000000000}' },
      { id: '1', event: 'heartbeat', data: '{"position":1,"freshAt":1,"x":1}' },
      { id: '', event: 'reset', data: '{"position":1.5}' },
      { id: '', event: 'reset', data: '[1]' },
      { id: '1', event: 'message', data: '{}' },
      { id: '1', event: 'poke', data: '{}' },
    ];
    for (const message of refused) {
      assert.throws(() => parseFeedMessage(message), invalidMessage, JSON.stringify(message));
    }
  });

  it('checks a snapshot whole', () => {
    assert.deepEqual(parseSnapshot({ position: 3, events: [EVENT] }), {
      position: 3,
      events: [EVENT],
    });
    for (const bad of [
      null,
      [],
      { position: 3 },
      { position: -1, events: [] },
      { position: 3, events: {} },
      { position: 3, events: [], more: true },
      { position: 3, events: [EVENT, { ...EVENT, v: 2 }] },
    ]) {
      assert.throws(() => parseSnapshot(bad), invalidMessage, JSON.stringify(bad));
    }
  });
});
