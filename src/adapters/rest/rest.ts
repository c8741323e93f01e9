// REST intake (SPEC §3): POST …/send and …/resend in every body form, translated to the core and answered in the caller's form.
import fs from 'node:fs/promises';
import path from 'node:path';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { AttachmentError, AuthError, IdempotencyConflict, SendError, ServerBusy, ThrottledError, toSendError, ValidationError, type Issue } from '../../core/errors.js';
import type { BodyMemory } from '../../core/memory-budget.js';
import type { IntakeContext, SendAnswer, SendRequestInput } from '../../core/send-request.js';
import { httpStatusOf } from '../../api/jsonapi.js';
import { jsonApiAnswer, jsonApiBatchAnswer, plainJsonAnswer, pointerOf, SEND_TYPES, sendInputFromJson, sendInputsFromJsonApi, type Answer, type Locations } from '../forms/json.js';
import { isObj } from '../forms/xml-request.js';
import { attachParts } from './attachments.js';
import { declaredForm, JSON_TYPE, JSONAPI, readRestBody, UnsupportedMediaType, type BodyForm, type RestBody } from './body.js';
import { PartMemory, type PartRoom, type RestLimits } from './multipart.js';

export type RestOperations = {
  send(input: SendRequestInput, ctx: IntakeContext): Promise<SendAnswer>;
  resend(input: SendRequestInput, ctx: IntakeContext): Promise<SendAnswer>;
};
export type RestOptions = RestOperations & {
  limits: RestLimits;
  /**
   * The client of a key in a header or the query, looked up before the body is read: unknown or disabled is 401
   * at once; else its own attachment limits (null: the global ones) apply to the parse.
   */
  clientLimits?: (hashKey: string) => Promise<{ enabled: boolean; maxAttachments: number | null; maxAttachmentBytes: number | null } | undefined>;
  /** The process's budget for bodies held in memory (BODY_MEMORY_BYTES). */
  memory: BodyMemory;
  /** Where multipart parts are spooled while a request is handled (one folder per request, removed after). */
  spoolDir: string;
  /** The OpenAPI document served at …/openapi.json. */
  openapiFile: string;
  log: Logger;
};

type Op = keyof RestOperations;
const RESEND_TYPES = ['resendRequest', 'resendRequests'];
const HEADER_MAX = 255;
/** How much of a refused upload is still read (at least), and for how long, before the connection is closed. */
const LINGER_BYTES = 64 * 1024 * 1024;
const LINGER_MS = 10_000;
/** A request declaring at most 4 MiB holds its parts in memory (within the body budget); the rest are spooled. */
const PART_MEMORY_PER_REQUEST = 4 * 1024 * 1024;

/** The HTTP status of SPEC §3 for an error; 415 for a body form the gateway does not take. */
export const restStatusOf = (e: SendError) => (e instanceof UnsupportedMediaType ? e.httpStatus : httpStatusOf(e));

/** Who is calling, from the headers and the query (SPEC §3); the body's own fields come first. */
function callerOf(ctx: Context) {
  const q = (k: string) => (typeof ctx.query[k] === 'string' ? (ctx.query[k] as string) : undefined);
  const h = (k: string) => ctx.get(k) || undefined;
  // X-Origin, X-Issuer and Idempotency-Key are bounded in the core, on every intake; X-User-Name is named here, as a header.
  if ((h('X-User-Name')?.length ?? 0) > HEADER_MAX) throw new ValidationError([{ code: 1, field: 'X-User-Name', text: `X-User-Name must be at most ${HEADER_MAX} characters` }]);
  return {
    clientHashKey: h('X-Client-Hash-Key') ?? q('clientHashKey'),
    userName: h('X-User-Name') ?? q('userName'),
    origin: h('X-Origin'),
    issuer: h('X-Issuer'),
    idempotencyKey: h('Idempotency-Key'),
    authorization: h('Authorization'),
  };
}

type Parsed = { batch: boolean; items: SendRequestInput[]; ids: (string | undefined)[]; locations: Locations[] };

function requestsOf(op: Op, body: RestBody): Parsed {
  if (body.form === 'jsonapi') return sendInputsFromJsonApi(body.doc, op === 'send' ? SEND_TYPES : RESEND_TYPES);
  return { batch: false, items: [sendInputFromJson(body.doc)], ids: [undefined], locations: [{}] };
}

/** Runs every item through the core; one item's refusal never stops the others (the batch rule, README). */
async function runItems(o: RestOptions, op: Op, parsed: Parsed, body: RestBody, caller: ReturnType<typeof callerOf>, ctx: Context): Promise<Answer[]> {
  const { items, itemIssues, requestIssues } = attachParts(parsed.items, body.files, body.multipart);
  if (requestIssues.length) {
    // The whole request is refused: each item's own issues go along, located as that item's (JSON:API pointers).
    const located = itemIssues.flatMap((list, i) =>
      list.map((issue) => (body.form === 'jsonapi' ? { ...issue, field: pointerOf(issue.field, parsed.batch ? `/data/${i}` : '/data', parsed.locations[i]) } : issue)),
    );
    throw new AttachmentError([...located, ...requestIssues]);
  }
  const answers: Answer[] = [];
  for (const [i, raw] of items.entries()) {
    if (itemIssues[i]!.length) {
      answers.push({ ok: false, error: new AttachmentError(itemIssues[i]!) });
      continue;
    }
    const intake: IntakeContext = {
      intake: 'rest',
      correlationId: ctx.state.correlationId,
      origin: caller.origin,
      issuer: caller.issuer,
      // One key for a batch: each item keeps its own, so a retried batch finds every stored item again.
      idempotencyKey: caller.idempotencyKey && (parsed.batch ? `${caller.idempotencyKey}#${i}` : caller.idempotencyKey),
      authorization: caller.authorization,
    };
    const input = { ...raw, clientHashKey: raw.clientHashKey ?? caller.clientHashKey, userName: raw.userName ?? caller.userName };
    try {
      answers.push({ ok: true, answer: await o[op](input, intake) });
    } catch (e) {
      const error = toSendError(e, intake.correlationId);
      if (error.status === 9) ctx.state.log.error({ err: e, item: i }, `REST ${op} failed`);
      answers.push({ ok: false, error: keyFromHeader(error, input, intake) });
    }
  }
  return answers;
}

/** A conflict over the `Idempotency-Key` header (not the IDEMPOTENCY_KEY param) names the header. */
function keyFromHeader(e: SendError, input: SendRequestInput, intake: IntakeContext): SendError {
  const params = Array.isArray(input.params) ? input.params : [];
  const byParam = params.some((p) => isObj(p) && p.key === 'IDEMPOTENCY_KEY');
  if (!(e instanceof IdempotencyConflict) || byParam || !intake.idempotencyKey) return e;
  return new IdempotencyConflict(e.issues[0]!.text.replace(/^IDEMPOTENCY_KEY/, 'Idempotency-Key'), 'Idempotency-Key');
}

/**
 * The limits a multipart body is parsed with: the client's own when its key arrives before the body (so a
 * client allowed more than the default is not cut short by it); the core checks the client's limits again.
 */
async function parseLimits(o: RestOptions, hashKey: string | undefined, keyField: string): Promise<RestLimits> {
  const own = hashKey && o.clientLimits ? await o.clientLimits(hashKey) : undefined;
  // Refused before a byte of the body is read: an unknown key cannot make the gateway hold a large body.
  if (hashKey && o.clientLimits && !own?.enabled) throw new AuthError(undefined, keyField);
  return {
    maxAttachments: own?.maxAttachments ?? o.limits.maxAttachments,
    maxAttachmentBytes: own?.maxAttachmentBytes ?? o.limits.maxAttachmentBytes,
    maxRequestBytes: o.limits.maxRequestBytes,
  };
}

/** 200 when anything was accepted; otherwise the errors' own status (mixed ones: 500 if any is internal, else 400). */
function batchStatus(answers: Answer[]): number {
  if (answers.some((a) => a.ok)) return 200;
  const statuses = new Set(answers.map((a) => (a.ok ? 200 : restStatusOf(a.error))));
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

function answerError(ctx: Context, form: BodyForm, err: SendError, maxRequestBytes: number) {
  const status = restStatusOf(err);
  const a: Answer = { ok: false, error: err };
  respond(ctx, form, status, form === 'json' ? plainJsonAnswer(a) : jsonApiAnswer(a, status));
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

export function restRoutes(router: Router<any>, o: RestOptions) {
  const openapi = fs.readFile(o.openapiFile, 'utf8').then((t) => JSON.parse(t) as unknown);
  openapi.catch(() => undefined); // reported when served

  const memory = new PartMemory(o.memory, PART_MEMORY_PER_REQUEST);

  async function handle(ctx: Context, op: Op) {
    let form = declaredForm(ctx.request.type);
    let dir: string | undefined;
    // The folder is made only for a part that goes to a file, once per request.
    let made: Promise<string> | undefined;
    const spool = () =>
      (made ??= fs.mkdir(o.spoolDir, { recursive: true }).then(async () => (dir = await fs.mkdtemp(path.join(o.spoolDir, 'rest-')))));
    const length = ctx.req.headers['content-length'];
    let room: PartRoom | undefined;
    let body: RestBody | undefined;
    try {
      const caller = callerOf(ctx);
      const limits = await parseLimits(o, caller.clientHashKey, ctx.get('X-Client-Hash-Key') ? 'X-Client-Hash-Key' : 'clientHashKey');
      // A body whose client is known only once it is read draws on the small anonymous allowance.
      const anonymous = !caller.clientHashKey;
      room = memory.room(length === undefined ? undefined : Number(length), spool, anonymous);
      body = await readRestBody(ctx.req, ctx.request.type, limits, room, { memory: o.memory, anonymous });
      form = body.form;
      const parsed = requestsOf(op, body);
      const answers = await runItems(o, op, parsed, body, caller, ctx);
      if (parsed.batch) {
        const status = batchStatus(answers);
        retryAfter(ctx, status, answers);
        respond(ctx, form, status, jsonApiBatchAnswer(answers, parsed.ids, restStatusOf, parsed.locations));
      } else {
        const a = answers[0]!;
        const status = a.ok ? 200 : restStatusOf(a.error);
        retryAfter(ctx, status, answers);
        respond(ctx, form, status, form === 'json' ? plainJsonAnswer(a) : jsonApiAnswer(a, status, [], parsed.locations[0]));
      }
    } catch (e) {
      const err = toSendError(e, ctx.state.correlationId);
      if (err.status === 9) ctx.state.log.error({ err: e }, `REST ${op} failed`);
      answerError(ctx, form, err, o.limits.maxRequestBytes);
    } finally {
      // Parts and bodies live exactly as long as the request: stored (or refused) by now.
      room?.release();
      body?.lease?.release();
      await made?.catch(() => undefined);
      if (dir) await fs.rm(dir, { recursive: true, force: true }).catch((err) => ctx.state.log.warn({ err, dir }, 'spool folder not removed'));
    }
  }

  for (const v of ['v1', 'v2']) {
    router.post(`/hammy/json/send/${v}/send`, (ctx) => handle(ctx, 'send'));
    router.post(`/hammy/json/send/${v}/resend`, (ctx) => handle(ctx, 'resend'));
  }
  router.get('/hammy/json/send/v2/openapi.json', async (ctx) => {
    ctx.type = 'application/json';
    ctx.body = await openapi;
  });
}
