import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../route-context.js';

/**
 * What other programs read: the public keys, health, metrics and the revocation feed. None needs a
 * token: the keys are public, and the feed carries identifiers (token, session and user ids), never
 * a token or a secret; keep `/metrics` and `/revocations` on a network your services share if even
 * that is too much to show.
 */
export function serviceRoutes(app: FastifyInstance, context: RouteContext): void {
  const { runtime } = context;

  app.get('/.well-known/jwks.json', async (_request, reply) => {
    // Short: a rotated key must reach resource servers soon; they also fetch again on an unknown kid.
    void reply.header('cache-control', 'public, max-age=60');
    return runtime.keys.ring.jwks();
  });

  app.get('/healthz', async () => {
    const health = runtime.follower.health();
    return {
      status: 'ok',
      mode: runtime.config.mode,
      sync: {
        state: health.state,
        transport: health.transport,
        position: health.position,
        staleness: Number.isFinite(health.staleness) ? health.staleness : null,
      },
    };
  });

  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return runtime.metrics.render();
  });

  app.get('/revocations', async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    return runtime.feed.snapshot();
  });
}
