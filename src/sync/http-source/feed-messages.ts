import { RevocableError } from '../../errors/revocable-error.js';
import {
  MAX_EVENT_TIME,
  parseRevocationEvent,
  parseRevocationEventJson,
  type RevocationEvent,
} from '../../revocation/events.js';
import type { SseMessage } from './sse-parser.js';

/** A message of the revocation stream, checked (see docs/server.md, "The revocation feed"). */
export type FeedMessage =
  /** The event at log position `position`. */
  | { readonly type: 'revocation'; readonly position: number; readonly event: RevocationEvent }
  /**
   * Every event up to `position` has been sent; every event committed before `freshAt` (epoch
   * seconds, the server's clock) is at or below it.
   */
  | { readonly type: 'heartbeat'; readonly position: number; readonly freshAt: number }
  /** The position asked for is past the head of the log (`position`): reload the snapshot. */
  | { readonly type: 'reset'; readonly position: number };

/** What `GET /revocations` answers, checked: every event valid, none applied yet. */
export interface FeedSnapshot {
  readonly position: number;
  readonly events: readonly RevocationEvent[];
}

function invalid(message: string, cause?: unknown): RevocableError {
  return new RevocableError('ERR_SYNC_MESSAGE_INVALID', message, { cause });
}

// Digits only, as the server writes them: no sign, exponent or spaces; 16 hold every safe integer.
const DIGITS = /^[0-9]{1,16}$/;

function isPosition(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function positionOfId(id: string | undefined): number {
  const value = id !== undefined && DIGITS.test(id) ? Number(id) : Number.NaN;
  if (!isPosition(value)) throw invalid('Revocation stream: a message id is not a log position.');
  return value;
}

function hasOnly(record: object, members: readonly string[]): boolean {
  const keys = Object.keys(record);
  return keys.length === members.length && members.every((member) => Object.hasOwn(record, member));
}

function dataObject(message: SseMessage, members: readonly string[]): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(message.data);
  } catch (cause) {
    throw invalid(`Revocation stream: the data of a ${message.event} message is not JSON.`, cause);
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !hasOnly(value, members)
  ) {
    throw invalid(
      `Revocation stream: the data of a ${message.event} message must be an object with exactly ${members.join(' and ')}.`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * Checks one message of the stream, whole: its kind, its id, and every member of its data,
 * strictly (exactly the members the server writes). Anything else, including a kind this version
 * does not know, is `ERR_SYNC_MESSAGE_INVALID`: a message half understood might carry an event
 * that must not be missed, so the caller reconnects after the last message it did understand
 * rather than skipping it. The message never appears in an error (it may name users and sessions).
 */
export function parseFeedMessage(message: SseMessage): FeedMessage {
  switch (message.event) {
    case 'revocation': {
      const position = positionOfId(message.id);
      let event: RevocationEvent;
      try {
        event = parseRevocationEventJson(message.data);
      } catch (cause) {
        throw invalid('Revocation stream: a revocation message holds no valid event.', cause);
      }
      return { type: 'revocation', position, event };
    }
    case 'heartbeat': {
      const position = positionOfId(message.id);
      const data = dataObject(message, ['position', 'freshAt']);
      const freshAt = data.freshAt;
      if (data.position !== position) {
        throw invalid('Revocation stream: a heartbeat whose position is not its id.');
      }
      if (
        typeof freshAt !== 'number' ||
        !Number.isFinite(freshAt) ||
        freshAt < 0 ||
        freshAt > MAX_EVENT_TIME
      ) {
        throw invalid('Revocation stream: a heartbeat whose freshAt is not epoch seconds.');
      }
      return { type: 'heartbeat', position, freshAt };
    }
    case 'reset': {
      const data = dataObject(message, ['position']);
      if (!isPosition(data.position)) {
        throw invalid('Revocation stream: a reset whose position is not a log position.');
      }
      return { type: 'reset', position: data.position };
    }
    default:
      throw invalid('Revocation stream: a message of an unknown kind.');
  }
}

/**
 * Checks the answer of `GET /revocations` (`{"position": P, "events": [...]}`, exactly), every
 * event included, before anything is applied: a snapshot is applied whole or not at all.
 */
export function parseSnapshot(value: unknown): FeedSnapshot {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !hasOnly(value, ['position', 'events'])
  ) {
    throw invalid('Revocation snapshot: must be an object with exactly position and events.');
  }
  const { position, events } = value as Record<string, unknown>;
  if (!isPosition(position)) throw invalid('Revocation snapshot: position is not a log position.');
  if (!Array.isArray(events)) throw invalid('Revocation snapshot: events is not an array.');
  const parsed: RevocationEvent[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    try {
      parsed[i] = parseRevocationEvent(events[i]);
    } catch (cause) {
      throw invalid(`Revocation snapshot: event ${i} is invalid.`, cause);
    }
  }
  return { position, events: parsed };
}
