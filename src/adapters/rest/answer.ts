// The send API's answers on HTTP (SPEC §3): one per request, in the caller's body form, with the status each error maps
// to; a refusal of the whole request is answered here too, called once from the error middleware (http.ts).
import type { ParameterizedContext } from 'koa';
import type { State } from '../../api/context.js';
import { ServerBusy, ThrottledError, type SendError } from '../../core/errors.js';
import type { Answer } from '../../core/requests.js';
import { httpStatusOf } from '../forms/http-status.js';
import { jsonApiAnswer, jsonApiBatchAnswer } from '../forms/jsonapi.js';
import { plainJsonAnswer, type RequestDocument } from '../forms/plain-json.js';
import { declaredForm, JSON_TYPE, JSONAPI, type BodyForm } from './body.js';

type Context = ParameterizedContext<State>;

/** How much of a refused upload is still read (at least), and for how long, before the connection is closed. */
const LINGER_BYTES = 64 * 1024 * 1024;
const LINGER_MS = 10_000;

/** The send and resend routes: their errors are JSON:API (or plain JSON), every other route's problem+json. */
export const isSendApiPath = (path: string) => /^\/hammy\/json\/send\/v[12]\/(?:send|resend)$/.test(path);

/** 200 when anything was accepted; otherwise the errors' own status (mixed ones: 500 if any is internal, else 400). */
function batchStatus(answers: Answer[]): number {
  if (answers.some((a) => a.ok)) return 200;
  const statuses = new Set(answers.map((a) => (a.ok ? 200 : httpStatusOf(a.error))));
  if (statuses.size === 1) return [...statuses][0]!;
  return statuses.has(500) ? 500 : 400;
}

/** A 429 says when to come back (RFC 9110 Retry-After, whole seconds): the longest wait of its throttled items. */
function retryAfter(ctx: Context, status: number, answers: Answer[]) {
  if (status !== 429) return;
  const waits = answers.map((a) => (!a.ok && a.error instanceof ThrottledError ? a.error.retryAfterMs : 0));
  ctx.set('Retry-After', String(Math.max(1, Math.ceil(Math.max(...waits) / 1000))));
}

function respond(ctx: Context, form: BodyForm, status: number, body: unknown) {
  ctx.status = status;
  ctx.body = body;
  // Exactly the types of the Hammy samples (koa would add a charset to application/json).
  ctx.set('Content-Type', form === 'json' ? JSON_TYPE : JSONAPI);
  // The Hammy sample answers with the caller's own Authorization header.
  const auth = ctx.get('Authorization');
  if (auth) ctx.set('Authorization', auth);
  if (status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="hammy"');
}

/** The answers of a request's items: a batch in JSON:API's batch shape, one item in the body's own form. */
export function answerRequests(ctx: Context, form: BodyForm, doc: RequestDocument, answers: Answer[]) {
  if (doc.batch) {
    const status = batchStatus(answers);
    retryAfter(ctx, status, answers);
    return respond(ctx, form, status, jsonApiBatchAnswer(answers, doc.ids, doc.locations));
  }
  const a = answers[0]!;
  const status = a.ok ? 200 : httpStatusOf(a.error);
  retryAfter(ctx, status, answers);
  respond(ctx, form, status, form === 'json' ? plainJsonAnswer(a) : jsonApiAnswer(a, doc.locations[0]));
}

/** A refusal of the whole request, in the form the body was read in (or declared, when it was not read). */
export function answerSendApiError(ctx: Context, err: SendError, maxRequestBytes: number) {
  const form: BodyForm = ctx.state.sendForm ?? declaredForm(ctx.request.type);
  const a: Answer = { ok: false, error: err };
  respond(ctx, form, httpStatusOf(err), form === 'json' ? plainJsonAnswer(a) : jsonApiAnswer(a));
  if (err instanceof ServerBusy) ctx.set('Retry-After', String(err.retryAfterS));
  if (!ctx.req.readableEnded) discardRest(ctx, Math.max(2 * maxRequestBytes, LINGER_BYTES));
}

/**
 * The answer goes out at once, but the rest of an upload refused mid-way is read and dropped: a server
 * that closes on a client still sending makes its TCP stack reset, and the client loses the answer.
 * Past `max` more bytes, or LINGER_MS, the connection is closed all the same.
 */
function discardRest(ctx: Context, max: number) {
  let n = 0;
  const req = ctx.req;
  const timer = setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
  req.on('data', (c: Buffer) => {
    n += c.length;
    if (n > max) req.socket.destroy();
  });
  req.once('end', () => clearTimeout(timer)).once('close', () => clearTimeout(timer));
  req.resume();
}
