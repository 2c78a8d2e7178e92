import { RevocableError } from '../errors/revocable-error.js';
import {
  parseRevocationEvent,
  type RevocationEvent,
  serializeRevocationEvent,
} from '../revocation/events.js';
import { parseMessageObject } from './internal/bus-messages.js';
import type { PushedMessage } from './types.js';

// The text of the messages on a PostgreSQL channel (a NOTIFY payload each), kept apart from the
// connection handling so that it can be tested without a server:
//   {"v":1,"type":"events","events":[<event>,...]}   {"v":1,"type":"poke"}   {"v":1,"type":"heartbeat"}
// Each event is the JSON of serializeRevocationEvent. A message carries no log position: the
// follower's freshness comes from its reads of the log alone.

/**
 * The largest NOTIFY payload PostgreSQL accepts, in bytes of the database encoding: the server
 * refuses a payload of 8000 bytes or more ("payload string too long"). revocable's texts are
 * UTF-8, and in a UTF-8 database a payload's bytes are its UTF-8 bytes.
 */
export const NOTIFY_PAYLOAD_LIMIT = 7999;

/**
 * How many NOTIFY payloads one `publish` may send before it sends a single poke instead (see
 * `createPostgresPublisher`'s `maxNotifications`).
 */
export const DEFAULT_MAX_NOTIFICATIONS = 16;

const VERSION = 1;
const EVENTS_HEAD = `{"v":${VERSION},"type":"events","events":[`;
const EVENTS_TAIL = ']}';
const FRAME_BYTES = Buffer.byteLength(EVENTS_HEAD) + Buffer.byteLength(EVENTS_TAIL);

/** The poke message: something was appended that no message carries; read the log. */
export const POKE_PAYLOAD = `{"v":${VERSION},"type":"poke"}`;
/** The heartbeat message. */
export const HEARTBEAT_PAYLOAD = `{"v":${VERSION},"type":"heartbeat"}`;

/**
 * Packs events into as few payloads as fit under `limit` bytes each, in their order. Null when
 * that takes more than `maxPayloads` payloads, or when one event alone does not fit (the caller
 * then pokes): the followers read such a batch from the log instead.
 */
export function encodeEvents(
  events: readonly RevocationEvent[],
  maxPayloads: number,
  limit: number = NOTIFY_PAYLOAD_LIMIT,
): string[] | null {
  const payloads: string[] = [];
  let parts: string[] = [];
  let bytes = FRAME_BYTES;
  const flush = () => {
    payloads.push(`${EVENTS_HEAD}${parts.join(',')}${EVENTS_TAIL}`);
    parts = [];
    bytes = FRAME_BYTES;
  };
  for (const event of events) {
    const text = serializeRevocationEvent(event);
    // Bytes, not characters: an identifier in Greek or CJK takes two or three bytes a character.
    const size = Buffer.byteLength(text, 'utf8');
    if (FRAME_BYTES + size > limit) return null;
    const separator = parts.length > 0 ? 1 : 0;
    if (bytes + separator + size > limit) {
      flush();
      if (payloads.length >= maxPayloads) return null;
    }
    bytes += (parts.length > 0 ? 1 : 0) + size;
    parts.push(text);
  }
  if (parts.length > 0) flush();
  return payloads.length > maxPayloads ? null : payloads;
}

function invalid(message: string, cause?: unknown): RevocableError {
  return new RevocableError(
    'ERR_SYNC_MESSAGE_INVALID',
    `Revocation bus message: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Reads one payload strictly: a JSON object of exactly the members of its type, version 1, every
 * event valid. Anything else is `ERR_SYNC_MESSAGE_INVALID`, and nothing of it is applied: a
 * message half understood is not trusted for the half that parsed.
 */
export function parseMessage(text: unknown): PushedMessage {
  if (typeof text !== 'string' || text.length === 0) throw invalid('empty.');
  // Checked before parsing: a payload can never be longer, so a longer one is not ours.
  if (Buffer.byteLength(text, 'utf8') > NOTIFY_PAYLOAD_LIMIT) throw invalid('too large.');
  const record = parseMessageObject(text);
  const members = Object.keys(record);
  if (record.v !== VERSION) throw invalid('v must be 1 (an unknown version).');
  switch (record.type) {
    case 'poke':
    case 'heartbeat':
      if (members.length !== 2) throw invalid(`a ${record.type} has only v and type.`);
      return { type: record.type };
    case 'events': {
      if (members.length !== 3 || !Array.isArray(record.events)) {
        throw invalid('an events message has exactly v, type and an events array.');
      }
      if (record.events.length === 0) throw invalid('an events message carries events.');
      try {
        return {
          type: 'events',
          events: record.events.map((event) => parseRevocationEvent(event)),
        };
      } catch (cause) {
        throw invalid('an event is invalid.', cause);
      }
    }
    default:
      throw invalid('an unknown type.');
  }
}
