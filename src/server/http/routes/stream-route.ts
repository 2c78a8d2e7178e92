import type { FastifyInstance } from 'fastify';
import { writeRevocationStream } from '../../feed/index.js';
import type { RouteContext } from '../route-context.js';

/**
 * `GET /revocations/stream`: server-sent events of the revocation log, resumable with
 * `Last-Event-ID`. The response is taken over from Fastify (it never ends by itself); the feed
 * ends it on shutdown, when the client goes, or when the client reads too slowly to keep up.
 */
export function revocationStreamRoute(app: FastifyInstance, context: RouteContext): void {
  // No HEAD twin: a HEAD answer has no body, so Node would hold back the headers of a stream that
  // never ends, and the request would hang with a subscription open.
  app.get('/revocations/stream', { exposeHeadRoute: false }, (request, reply) => {
    // A malformed Last-Event-ID is refused before anything is written: an ordinary error answer.
    writeRevocationStream(request.raw, reply.raw, context.runtime.feed);
    reply.hijack();
  });
}
