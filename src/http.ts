// The one HTTP server: correlation id, request log, error handling, body limits, and every route (STYLE §2).
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import { lazyChild } from './log.js';
import type { SoapAdapter } from './adapters/soap/soap.js';
import { faultXml } from './adapters/soap/envelope.js';
import { answerSendApiError, isSendApiPath } from './adapters/rest/answer.js';
import type { State } from './api/context.js';
import { readBodyText } from './api/body.js';
import { answerProblem, answerStatusProblem } from './api/problem.js';
import { AttachmentError, AuthError, SendError, ServerBusy, toSendError, ValidationError } from './core/errors.js';
import type { BodyMemory, MemoryLease } from './core/memory-budget.js';

export type HttpDeps = {
  log: Logger;
  soap: SoapAdapter;
  maxRequestBytes: number;
  /** The budget every body read whole draws on (BODY_MEMORY_BYTES). */
  bodyMemory?: BodyMemory;
  /** Whether a client key names an enabled client: a SOAP key in the X-Client-Hash-Key header is checked before the body. */
  knownClient?: (hashKey: string) => Promise<boolean>;
  /** ready: the database answers (GET /health); accepting: and every configured intake consumes (/health/ready). */
  health: () => Promise<{ ready: boolean; accepting: boolean; parts: Record<string, unknown> }>;
  /** The read APIs (portal, documents, …) register their routes here. */
  routes: ((router: Router<State>) => void)[];
};

export type { State };

const SAFE_HOST = /^[A-Za-z0-9.\-:[\]]+$/;

/**
 * The operation a SOAP request names, from SOAPAction or else from the first 2 KiB of its body (the WSDL's
 * soapAction is empty, as JAX-WS services have it): enough to answer a refusal in the operation's own form without
 * reading, or holding, the rest of the body.
 */
function soapOperation(req: NodeJS.ReadableStream & { headers: Record<string, unknown> }, waitMs = 200): Promise<string> {
  const action = String(req.headers.soapaction ?? '');
  if (action.replace(/"/g, '')) return Promise.resolve(action);
  return new Promise((resolve) => {
    let head = '';
    const done = () => {
      clearTimeout(timer);
      req.off('data', onData).off('end', done);
      req.pause();
      resolve(/<(?:[\w.-]+:)?(resendMail|getMessageStatus)[\s/>]/.exec(head)?.[1] ?? 'sendMail');
    };
    const onData = (chunk: Buffer | string) => {
      head += String(chunk);
      if (head.length >= 2048) done();
    };
    // A body that does not come at once is not waited for: the refusal is then a sendMailResponse.
    const timer = setTimeout(done, waitMs);
    req.on('data', onData).once('end', done);
  });
}

export function createHttpApp(d: HttpDeps): Koa<State> {
  const app = new Koa<State>();
  app.proxy = false;
  const router = new Router<State>();
  // The management APIs' body reader (api/body.ts) finds the budget on every context.
  Object.assign(app.context, { bodyMemory: d.bodyMemory });
  // What reaches here is a connection's own trouble (a client gone mid-body): logged, never printed to stderr.
  app.on('error', (err) => d.log.debug({ err: { code: err.code, message: err.message } }, 'connection error'));

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
      // What no route answered (an unknown path, a method a route does not take) is a problem too.
      if (ctx.status >= 400 && ctx.body == null) {
        answerStatusProblem(ctx, ctx.status, ctx.status === 404 ? 6 : 1, ctx.status === 404 ? `no resource at ${ctx.path}` : `${ctx.method} is not allowed here`);
      }
    } catch (err) {
      // Answered once, here, in the wire's one shape: JSON:API on the send API (SPEC §3), problem+json elsewhere.
      // No stack or internal detail leaves the process.
      if (!(err instanceof SendError)) ctx.state.log.error({ err }, 'unhandled error');
      const e = toSendError(err, ctx.state.correlationId);
      if (isSendApiPath(ctx.path)) answerSendApiError(ctx, e, d.maxRequestBytes);
      else answerProblem(ctx, e);
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

  const soapFault = (ctx: Koa.ParameterizedContext<State>, status: number, code: 'soap:Client' | 'soap:Server', reason: string) => {
    ctx.status = status;
    ctx.type = 'text/xml; charset=utf-8';
    ctx.body = faultXml(code, reason);
  };

  router.post(soapPaths, async (ctx) => {
    const key = ctx.get('x-client-hash-key').trim();
    // A key in the header is checked before the body is read: an unknown one cannot make the gateway hold a body.
    if (key && d.knownClient && !(await d.knownClient(key))) {
      const reply = d.soap.refusal(new AuthError(undefined, 'X-Client-Hash-Key'), await soapOperation(ctx.req));
      ctx.status = reply.status;
      ctx.type = 'text/xml; charset=utf-8';
      ctx.body = reply.body;
      return;
    }
    let lease: MemoryLease | undefined;
    try {
      let body: string;
      try {
        // The size cap and the memory budget hold before anything is parsed (SPEC §2); without a key in a header
        // the client is known only from the body, so it draws on the anonymous allowance.
        ({ text: body, lease } = await readBodyText(ctx.req, { limit: d.maxRequestBytes, memory: d.bodyMemory, anonymous: !key }));
      } catch (e) {
        if (e instanceof ServerBusy) {
          ctx.set('Retry-After', String(e.retryAfterS));
          return soapFault(ctx, 503, 'soap:Server', e.issues[0]!.text);
        }
        const tooLarge = e instanceof AttachmentError;
        return soapFault(ctx, tooLarge ? 413 : 400, 'soap:Client', tooLarge ? `the request is larger than ${d.maxRequestBytes} bytes` : 'the request body could not be read');
      }
      const headers: Record<string, string> = {};
      for (const h of ['x-origin', 'x-issuer', 'authorization']) if (ctx.get(h)) headers[h] = ctx.get(h);
      const reply = await d.soap.handle(body, headers, ctx.state.correlationId);
      ctx.status = reply.status;
      ctx.type = 'text/xml; charset=utf-8';
      ctx.body = reply.body;
    } finally {
      lease?.release();
    }
  });

  for (const register of d.routes) register(router);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
