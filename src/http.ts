// The one HTTP server: correlation id, request log, error handling, body limits, and every route (STYLE §2).
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import getRawBody from 'raw-body';
import type { Logger } from 'pino';
import { lazyChild } from './log.js';
import type { SoapAdapter } from './adapters/soap/soap.js';
import { faultXml } from './adapters/soap/envelope.js';
import { errorDocument, httpStatusOf, JSONAPI } from './api/jsonapi.js';
import { SendError, ValidationError } from './core/errors.js';

export type HttpDeps = {
  log: Logger;
  soap: SoapAdapter;
  maxRequestBytes: number;
  /** ready: the database answers (GET /health); accepting: and every configured intake consumes (/health/ready). */
  health: () => Promise<{ ready: boolean; accepting: boolean; parts: Record<string, unknown> }>;
  /** The read APIs (portal, documents, …) register their routes here. */
  routes: ((router: Router<State>) => void)[];
};

export type State = { correlationId: string; log: Logger };

const SAFE_HOST = /^[A-Za-z0-9.\-:[\]]+$/;

export function createHttpApp(d: HttpDeps): Koa<State> {
  const app = new Koa<State>();
  app.proxy = false;
  const router = new Router<State>();

  app.use(async (ctx, next) => {
    const header = ctx.get('x-correlation-id');
    ctx.state.correlationId = /^[\w.-]{1,100}$/.test(header) ? header : randomUUID();
    const log = lazyChild(d.log, { correlationId: ctx.state.correlationId });
    Object.defineProperty(ctx.state, 'log', { get: log, configurable: true, enumerable: true });
    ctx.set('X-Correlation-Id', ctx.state.correlationId);
    const started = process.hrtime.bigint();
    try {
      // No stored text can hold U+0000: a NUL in the path or query is the caller's error, named, not a 500.
      if (/%00/.test(ctx.url)) throw new ValidationError([{ code: 1, field: 'url', text: 'the URL must not contain a NUL character (%00)' }]);
      await next();
    } catch (err) {
      // Answered once, here; no stack or internal detail leaves the process.
      if (err instanceof SendError) {
        ctx.status = httpStatusOf(err);
        ctx.type = JSONAPI;
        ctx.body = errorDocument(err);
      } else {
        ctx.state.log.error({ err }, 'unhandled error');
        ctx.status = 500;
        ctx.type = JSONAPI;
        ctx.body = { errors: [{ status: '500', title: 'internal error', detail: `correlation id ${ctx.state.correlationId}` }] };
      }
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      ctx.state.log.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, 'request');
    }
  });

  router.get('/health', async (ctx) => {
    const h = await d.health();
    ctx.status = h.ready ? 200 : 503;
    ctx.body = { status: h.ready ? 'ready' : 'not ready', parts: h.parts };
  });
  // Liveness: the process answers (restart it if not); it asks nothing of the database or the broker.
  router.get('/health/live', (ctx) => {
    ctx.body = { status: 'live' };
  });
  // Readiness: route traffic here only when every configured intake takes requests.
  router.get('/health/ready', async (ctx) => {
    const h = await d.health();
    ctx.status = h.accepting ? 200 : 503;
    ctx.body = { status: h.accepting ? 'ready' : 'not ready', parts: h.parts };
  });

  const soapPaths = ['/hammy/soap/send/v2', '/hammy/soap/send/v1'];
  router.get(soapPaths, async (ctx) => {
    if (!('wsdl' in ctx.query) && !('WSDL' in ctx.query)) {
      ctx.status = 404;
      return;
    }
    const host = SAFE_HOST.test(ctx.host) ? ctx.host : 'localhost';
    ctx.type = 'text/xml; charset=utf-8';
    ctx.body = d.soap.wsdl(`${ctx.protocol}://${host}`);
  });

  router.post(soapPaths, async (ctx) => {
    let body: string;
    try {
      // The size cap holds before anything is parsed (SPEC §2; issue: cap the request size).
      body = await getRawBody(ctx.req, { limit: d.maxRequestBytes, encoding: 'utf8', length: ctx.get('content-length') || undefined });
    } catch (e) {
      const tooLarge = (e as { type?: string }).type === 'entity.too.large';
      ctx.status = tooLarge ? 413 : 400;
      ctx.type = 'text/xml; charset=utf-8';
      ctx.body = faultXml('soap:Client', tooLarge ? `the request is larger than ${d.maxRequestBytes} bytes` : 'the request body could not be read');
      return;
    }
    const headers: Record<string, string> = {};
    for (const h of ['x-origin', 'x-issuer', 'authorization']) if (ctx.get(h)) headers[h] = ctx.get(h);
    const reply = await d.soap.handle(body, headers, ctx.state.correlationId);
    ctx.status = reply.status;
    ctx.type = 'text/xml; charset=utf-8';
    ctx.body = reply.body;
  });

  for (const register of d.routes) register(router);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
