import { serializeRevocationEvent } from '../../revocation/events.js';
import type { StoredEvent } from '../../stores/types.js';
import type { FeedHeartbeat } from './types.js';

// The messages of the revocation stream, as written. Every data line is one line of JSON (JSON
// text has no raw newline), so each message is exactly the lines below and a blank line.

/** How long a client waits before it reconnects, in milliseconds: the stream's first message. */
export function retryMessage(milliseconds: number): string {
  return `retry: ${milliseconds}\n\n`;
}

// The live fan-out hands the one stored event of a read to every open stream: written once, not
// once per stream. Weak, so an event no stream holds any more is not kept for the cache's sake.
const written = new WeakMap<StoredEvent, string>();

/** One revocation event; its id is its log position. */
export function eventMessage(stored: StoredEvent): string {
  let message = written.get(stored);
  if (message === undefined) {
    message = `id: ${stored.seq}\nevent: revocation\ndata: ${serializeRevocationEvent(stored.event)}\n\n`;
    written.set(stored, message);
  }
  return message;
}

/**
 * A heartbeat. It carries the position as its id too: a client that reconnects after it resumes
 * from there rather than from its last event (the heartbeat says nothing below it is missing).
 */
export function heartbeatMessage(beat: FeedHeartbeat): string {
  const data = JSON.stringify({ position: beat.position, freshAt: beat.freshAt });
  return `id: ${beat.position}\nevent: heartbeat\ndata: ${data}\n\n`;
}

/**
 * A comment (which a client ignores) while the stream waits its turn to read its backlog: the
 * connection is alive, though nothing is sent yet.
 */
export function waitingMessage(): string {
  return ': waiting\n\n';
}

/**
 * The position asked for is past the head of the log: reload the snapshot. Its empty id clears
 * the client's last event id, so a browser's EventSource that reconnects by itself does not send
 * the position that was refused again.
 */
export function resetMessage(head: number): string {
  return `id:\nevent: reset\ndata: ${JSON.stringify({ position: head })}\n\n`;
}
