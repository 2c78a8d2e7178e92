import { RevocableError } from '../../errors/revocable-error.js';
import type { RevocationEvent } from '../../revocation/events.js';
import { parseRevocationEvent, serializeRevocationEvent } from '../../revocation/events.js';
import type { PushedMessage } from '../types.js';

// The wire format of a bus message, one JSON object:
//   {"t":"e","e":[<event>, ...]}  events, each exactly as the log stores it;
//   {"t":"e","s":<n>,"e":[...]}   the same, published by the store itself: the events are at log
//                                 positions n, n + 1, ... (a follower sees a gap at once);
//   {"t":"h"}                     a heartbeat;
//   {"t":"p"}                     a poke: something was appended, read the log.
// Short member names: a heartbeat goes to every process every second.

/** A heartbeat, as sent. */
export const HEARTBEAT_TEXT = '{"t":"h"}';
/** A poke, as sent. */
export const POKE_TEXT = '{"t":"p"}';

/**
 * The largest message a follower parses, in UTF-16 units. Publishers stay far below it (64 KiB by
 * default); anything larger is not revocable's, and parsing it would only cost memory and time.
 */
export const MAX_MESSAGE_LENGTH = 1024 * 1024;

const HEARTBEAT: PushedMessage = Object.freeze({ type: 'heartbeat' });
const POKE: PushedMessage = Object.freeze({ type: 'poke' });

function invalid(message: string, cause?: unknown): RevocableError {
  return new RevocableError('ERR_SYNC_MESSAGE_INVALID', `Revocation bus message: ${message}`, {
    cause,
  });
}

/**
 * Packs events into as few messages as fit `maxLength` (UTF-16 units, which bound the UTF-8
 * bytes only for ASCII: events are ASCII in practice, and a message a little over is still far
 * below what a follower accepts). An event longer than the limit on its own goes alone.
 */
export function encodeEvents(events: readonly RevocationEvent[], maxLength: number): string[] {
  const messages: string[] = [];
  const head = '{"t":"e","e":[';
  let parts: string[] = [];
  let length = head.length + 2;
  for (const event of events) {
    const text = serializeRevocationEvent(event);
    if (parts.length > 0 && length + text.length + 1 > maxLength) {
      messages.push(`${head}${parts.join(',')}]}`);
      parts = [];
      length = head.length + 2;
    }
    parts.push(text);
    length += text.length + 1;
  }
  if (parts.length > 0) messages.push(`${head}${parts.join(',')}]}`);
  return messages;
}

function hasOnly(record: object, members: readonly string[]): boolean {
  const keys = Object.keys(record);
  return keys.length === members.length && members.every((member) => Object.hasOwn(record, member));
}

/**
 * The JSON object a bus message must be, whatever the bus: `ERR_SYNC_MESSAGE_INVALID` for text
 * that is not JSON or not an object.
 */
export function parseMessageObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw invalid('not JSON.', cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('not a JSON object.');
  }
  return value as Record<string, unknown>;
}

/**
 * Parses one message strictly: exactly the members of its kind, every event through the same
 * parser as the log's. Throws `ERR_SYNC_MESSAGE_INVALID` for anything else, so a message from a
 * newer version, a foreign publisher on the channel or a truncated one is never half-applied.
 */
export function decodeMessage(text: string): PushedMessage {
  if (text === HEARTBEAT_TEXT) return HEARTBEAT;
  if (text === POKE_TEXT) return POKE;
  if (text.length > MAX_MESSAGE_LENGTH) throw invalid('longer than a follower accepts.');
  const record = parseMessageObject(text);
  const type = Object.hasOwn(record, 't') ? record.t : undefined;
  if ((type === 'h' || type === 'p') && hasOnly(record, ['t'])) {
    return type === 'h' ? HEARTBEAT : POKE;
  }
  const positioned = Object.hasOwn(record, 's');
  if (type !== 'e' || !hasOnly(record, positioned ? ['t', 's', 'e'] : ['t', 'e'])) {
    throw invalid('of an unknown kind.');
  }
  const position = positioned ? record.s : undefined;
  if (position !== undefined && (!Number.isSafeInteger(position) || (position as number) < 1)) {
    throw invalid('s must be a positive integer (a log position).');
  }
  const list = record.e;
  if (!Array.isArray(list) || list.length === 0) throw invalid('e must be a non-empty array.');
  const events: RevocationEvent[] = [];
  for (const item of list) {
    try {
      events.push(parseRevocationEvent(item));
    } catch (cause) {
      throw invalid('an event is invalid.', cause);
    }
  }
  return position === undefined
    ? { type: 'events', events }
    : { type: 'events', events, position: position as number };
}
