import type { FastifyInstance } from 'fastify';
import { feedTokenCheck } from '../feed-token.js';
import type { RouteContext } from '../route-context.js';

/**
 * What other programs read: the public keys, health, metrics and the revocation feed. The keys
 * are public; the feed carries identifiers (token, session and user ids, and when a user was
 * banned or logged out), never a token or a secret, and the metrics counts. Those two take the
 * feed token when the server has one (`REVOCABLE_FEED_TOKEN`); without it they are open to
 * whoever reaches the server, so keep them on a network your services share.
 */
export function serviceRoutes(app: FastifyInstance, context: RouteContext): void {
  const { runtime } = context;
  const guarded = feedTokenCheck(runtime.config.feedToken) ?? {};

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

  app.get('/metrics', guarded, async (_request, reply) => {
    void reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return runtime.metrics.render();
  });

  app.get('/revocations', guarded, async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    return runtime.feed.snapshot();
  });
}
