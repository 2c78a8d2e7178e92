import type { IncomingHttpHeaders } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { RevocableError } from '../../errors/revocable-error.js';
import { duplicateMemberName } from '../../lib/json-duplicate-member.js';
import type { ServerRuntime } from '../runtime/runtime.js';
import { bodyText } from './body-text.js';
import { answerClientError, answerConnect, answerExpectation } from './client-errors.js';
import { cookieNames } from './cookies.js';
import { handleError, handleNotFound } from './errors.js';
import { createAuthenticator } from './request-auth.js';
import type { RouteContext } from './route-context.js';
import { documentRoute } from './route-docs.js';
import { adminRoutes } from './routes/admin-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { oauthRoutes } from './routes/oauth-routes.js';
import { serviceRoutes } from './routes/service-routes.js';
import { revocationStreamRoute } from './routes/stream-route.js';

function duplicateMember(name: string): RevocableError {
  return new RevocableError(
    'ERR_HTTP_BODY_INVALID',
    `The member ${JSON.stringify(name.slice(0, 64))} is given more than once.`,
  );
}

/** Options of {@link buildApp} besides the runtime. */
export interface BuildAppOptions {
  /** The version the OpenAPI document states. */
  readonly version: string;
}

/**
 * The auth server's Fastify app on a runtime: every route, the error answers, cookies and the
 * OpenAPI document. It does not listen; `startServer` does, and tests may `inject` instead.
 */
export async function buildApp(
  runtime: ServerRuntime,
  options: BuildAppOptions,
): Promise<FastifyInstance> {
  const { config } = runtime;
  // The answers written before Fastify has a request, which its onResponse hook never sees.
  const counted = (status: number | null): void => {
    if (status !== null) runtime.metrics.request(status);
  };
  const app = Fastify({
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel,
            // Fastify logs no headers or bodies by default; should a handler log a request, its
            // credentials stay out of the log.
            redact: [
              'req.headers.authorization',
              'req.headers.cookie',
              'req.headers["x-csrf-token"]',
            ],
          },
    bodyLimit: config.bodyLimit,
    // Node answers 408 to a request not received whole in time (a body trickled in a byte at a
    // time), checking its connections every second rather than every 30 s, so the bound holds.
    // Given to Node's server itself too: set only afterwards, as Fastify does, the headers'
    // timeout (60 s by default) stays above it and the bound is not applied to the body.
    requestTimeout: config.requestTimeout * 1000,
    // Node refuses an HTTP/1.1 request without Host by itself, with an empty body; the onRequest
    // hook below refuses it instead, in the shape of every other error.
    http: {
      requireHostHeader: false,
      requestTimeout: config.requestTimeout * 1000,
      connectionsCheckingInterval: 1000,
    },
    // Never `true`: that believes every entry, and the leftmost is whatever the client wrote.
    trustProxy: config.trustProxy === false ? false : [...config.trustProxy],
    // Validation refuses what it does not know instead of repairing it: an unknown member or a
    // number given as a string is the client's mistake, and must not be silently dropped or cast.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
    forceCloseConnections: 'idle',
    clientErrorHandler: (error, socket) => counted(answerClientError(error, socket)),
    // Fastify's own 503 while closing has a body of its own shape: the onRequest hook below
    // answers instead, with a code.
    return503OnClosing: false,
    // The router's own refusals (a malformed percent-escape, a path parameter longer than
    // maxParamLength) bypass the error handler and would answer in Fastify's shape.
    frameworkErrors: (error, request, reply) => {
      const refused =
        error.code === 'FST_ERR_BAD_URL'
          ? new RevocableError('ERR_INVALID_ARGUMENT', 'The path has a malformed percent-escape.')
          : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? new RevocableError('ERR_INVALID_ARGUMENT', 'A path parameter is longer than any id.')
            : error;
      handleError(refused, request, reply);
    },
  });
  app.setErrorHandler(handleError);
  // What Node answers before Fastify sees a request: here in the shape of every other error.
  app.server.on('connect', (request, socket) => counted(answerConnect(request, socket)));
  app.server.on('checkExpectation', (request, response) =>
    counted(answerExpectation(request, response)),
  );
  // Set as the server starts to close (before the feed's streams end and the requests in flight
  // are waited for): a request that arrives then, on a kept-alive connection, is refused.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback style: every request passes here, and most need no promise.
  app.addHook('onRequest', (request, reply, done) => {
    if (closing) {
      void reply.header('connection', 'close');
      done(
        new RevocableError(
          'ERR_SERVER_CLOSING',
          'The server is shutting down; send the request again.',
        ),
      );
      return;
    }
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      done(
        new RevocableError(
          'ERR_INVALID_ARGUMENT',
          'An HTTP/1.1 request needs a Host header (RFC 9112, section 3.2).',
        ),
      );
      return;
    }
    done();
  });
  app.setNotFoundHandler(handleNotFound);
  // Bodies are taken as sent. A compressed one would reach the JSON parser as bytes it refuses
  // with a misleading message, and inflating it would let a small request grow into a large one
  // past the body limit's intent: 415 (RFC 9110, section 15.5.16).
  app.addHook('preParsing', (request, _reply, payload, done) => {
    if (hasEncodedBody(request.headers)) {
      done(
        new RevocableError(
          'ERR_HTTP_MEDIA_TYPE',
          'Request bodies are taken uncompressed: send this one without Content-Encoding.',
        ),
      );
      return;
    }
    done(null, payload);
  });
  // JSON only (the /oauth routes add form data in their own scope): a form or text body posted
  // from another site's page is refused before any handler runs.
  app.removeContentTypeParser('text/plain');
  // An empty JSON body is no body (a client's POST /auth/logout with the JSON content type and
  // nothing else): routes that need one refuse it by their schema, with the field named.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
    let body: string;
    try {
      body = bodyText(raw);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    if (body === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, body, (error, value) => {
      if (error !== null) {
        done(error, undefined);
        return;
      }
      // A member given twice would mean the last one here and maybe the first elsewhere.
      const repeated = duplicateMemberName(body);
      if (repeated === null) done(null, value);
      else done(duplicateMember(repeated), undefined);
    });
  });
  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'revocable auth server',
        description: 'JWT sessions that the server can end at once.',
        version: options.version,
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  });
  app.addHook('onRoute', documentRoute);
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    return payload;
  });
  app.addHook('onResponse', async (_request, reply) => {
    runtime.metrics.request(reply.statusCode);
  });

  const names = cookieNames(config.cookieSecure);
  const auth = createAuthenticator(runtime, names);
  const context: RouteContext = {
    runtime,
    auth,
    names,
    tokens: { names, secure: config.cookieSecure, refreshTtl: config.sessionLifetime, auth },
  };
  authRoutes(app, context);
  adminRoutes(app, context);
  serviceRoutes(app, context);
  revocationStreamRoute(app, context);
  await app.register(async (scope) => oauthRoutes(scope, context));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

/** Whether the request carries a body under a Content-Encoding other than `identity`. */
function hasEncodedBody(headers: IncomingHttpHeaders): boolean {
  const encoding = headers['content-encoding'];
  if (encoding === undefined || encoding.trim().toLowerCase() === 'identity') return false;
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
