import type { FastifyInstance } from 'fastify';
import { writeRevocationStream } from '../../feed/index.js';
import { feedTokenCheck } from '../feed-token.js';
import type { RouteContext } from '../route-context.js';
import { createStreamAdmission } from '../stream-admission.js';

/**
 * `GET /revocations/stream`: server-sent events of the revocation log, resumable with
 * `Last-Event-ID`. The response is taken over from Fastify (it never ends by itself); the feed
 * ends it on shutdown, when the client goes, or when the client reads too slowly to keep up.
 * A stream past the process's limits (in all, or from the client's address) is answered 503.
 */
export function revocationStreamRoute(app: FastifyInstance, context: RouteContext): void {
  const { config, feed } = context.runtime;
  const admission = createStreamAdmission({
    total: config.maxStreams,
    perAddress: config.maxStreamsPerAddress,
  });
  // No HEAD twin: a HEAD answer has no body, so Node would hold back the headers of a stream that
  // never ends, and the request would hang with a subscription open.
  const guarded = feedTokenCheck(config.feedToken) ?? {};
  app.get('/revocations/stream', { exposeHeadRoute: false, ...guarded }, (request, reply) => {
    // A request pipelined behind another on its connection has no socket yet: its answer would
    // wait for ever behind a stream that never ends, and no 'close' of its own would ever free
    // its place. No answer can reach it, so the connection is closed.
    if (reply.raw.socket === null) {
      request.raw.socket.destroy();
      reply.hijack();
      return;
    }
    // Refusals (the limits, a malformed Last-Event-ID) come before anything is written: ordinary
    // error answers.
    const release = admission.admit(request.ip);
    try {
      const stream = writeRevocationStream(request.raw, reply.raw, feed);
      void stream.closed.then(release);
    } catch (error) {
      release();
      throw error;
    }
    reply.hijack();
  });
}
