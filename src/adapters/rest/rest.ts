// REST intake (SPEC §3): POST …/send and …/resend in every body form, translated to the core and answered in the caller's form.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ApiContext as Context, ApiRouter } from '../../api/context.js';
import type { Logger } from 'pino';
import { AttachmentError, AuthError, headerIssue, ValidationError } from '../../core/errors.js';
import type { BodyMemory } from '../../core/memory-budget.js';
import { acceptRequests, type Caller, type Operation, type RequestItems } from '../../core/requests.js';
import { pointerOf, readJsonApi } from '../forms/jsonapi.js';
import { readPlainJson, type RequestDocument } from '../forms/plain-json.js';
import { answerRequests } from './answer.js';
import { attachParts } from './attachments.js';
import { declaredForm, readRestBody, type RestBody } from './body.js';
import { type RestLimits } from './multipart.js';
import { PartMemory, type PartRoom } from './part-sink.js';

export type RestOperations = { send: Operation; resend: Operation };
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
/** userName's bound (SPEC §1 table: 100), named as the header it came in. */
const USER_NAME_MAX = 100;
/** A request declaring at most 4 MiB holds its parts in memory (within the body budget); the rest are spooled. */
const PART_MEMORY_PER_REQUEST = 4 * 1024 * 1024;

/** Who is calling, from the headers and the query (SPEC §3); the body's own fields come first. */
function callerOf(ctx: Context): Caller & { idempotencyKey?: string } {
  const q = (k: string) => (typeof ctx.query[k] === 'string' ? (ctx.query[k] as string) : undefined);
  const h = (k: string) => ctx.get(k) || undefined;
  // X-Origin, X-Issuer and Idempotency-Key are bounded in the core, on every intake; X-User-Name is named here, as a header.
  if ((h('X-User-Name')?.length ?? 0) > USER_NAME_MAX) throw new ValidationError([headerIssue(1, 'X-User-Name', `X-User-Name must be at most ${USER_NAME_MAX} characters`)]);
  return {
    intake: 'rest',
    correlationId: ctx.state.correlationId,
    clientHashKey: h('X-Client-Hash-Key') ?? q('clientHashKey'),
    userName: h('X-User-Name') ?? q('userName'),
    origin: h('X-Origin'),
    issuer: h('X-Issuer'),
    idempotencyKey: h('Idempotency-Key'),
    authorization: h('Authorization'),
  };
}

/**
 * The items with their multipart parts attached; an item missing its part is refused alone. A part no item names
 * refuses the whole request, each item's own issues along, located as that item's (JSON:API pointers).
 */
function withParts(doc: RequestDocument, body: RestBody): RequestItems {
  const { items, itemIssues, requestIssues } = attachParts(doc.items, body.files, body.multipart);
  if (requestIssues.length) {
    const located = itemIssues.flatMap((list, i) =>
      list.map((issue) => (body.form === 'jsonapi' ? { ...issue, field: pointerOf(issue.field, doc.batch ? `/data/${i}` : '/data', doc.locations[i]) } : issue)),
    );
    throw new AttachmentError([...located, ...requestIssues]);
  }
  return { batch: doc.batch, items: items.map((item, i) => (itemIssues[i]!.length ? new AttachmentError(itemIssues[i]!) : item)) };
}

/**
 * The limits a multipart body is parsed with: the client's own when its key arrives before the body (so a
 * client allowed more than the default is not cut short by it); the core checks the client's limits again.
 */
async function parseLimits(o: RestOptions, hashKey: string | undefined, inHeader: boolean): Promise<RestLimits> {
  const own = hashKey && o.clientLimits ? await o.clientLimits(hashKey) : undefined;
  // Refused before a byte of the body is read: an unknown key cannot make the gateway hold a large body.
  if (hashKey && o.clientLimits && !own?.enabled) throw new AuthError(undefined, inHeader ? 'X-Client-Hash-Key' : undefined);
  return {
    maxAttachments: own?.maxAttachments ?? o.limits.maxAttachments,
    maxAttachmentBytes: own?.maxAttachmentBytes ?? o.limits.maxAttachmentBytes,
    maxRequestBytes: o.limits.maxRequestBytes,
  };
}

export function restRoutes(router: ApiRouter, o: RestOptions) {
  const openapi = fs.readFile(o.openapiFile, 'utf8').then((t) => JSON.parse(t) as unknown);
  openapi.catch(() => undefined); // reported when served

  const memory = new PartMemory(o.memory, PART_MEMORY_PER_REQUEST);

  async function handle(ctx: Context, op: Op) {
    let dir: string | undefined;
    // The folder is made only for a part that goes to a file, once per request.
    let made: Promise<string> | undefined;
    const spool = () =>
      (made ??= fs.mkdir(o.spoolDir, { recursive: true }).then(async () => (dir = await fs.mkdtemp(path.join(o.spoolDir, 'rest-')))));
    const length = ctx.req.headers['content-length'];
    let room: PartRoom | undefined;
    let body: RestBody | undefined;
    // Whole-request refusals are thrown: the error middleware (http.ts) answers them in this form.
    ctx.state.sendForm = declaredForm(ctx.request.type);
    try {
      const caller = callerOf(ctx);
      const limits = await parseLimits(o, caller.clientHashKey, !!ctx.get('X-Client-Hash-Key'));
      // A body whose client is known only once it is read draws on the small anonymous allowance.
      const anonymous = !caller.clientHashKey;
      room = memory.room(length === undefined ? undefined : Number(length), spool, anonymous);
      body = await readRestBody(ctx.req, ctx.request.type, limits, room, { memory: o.memory, anonymous });
      ctx.state.sendForm = body.form;
      const doc = body.form === 'jsonapi' ? readJsonApi(body.doc, op) : readPlainJson(body.doc);
      const key = { idempotencyKey: caller.idempotencyKey, header: 'Idempotency-Key' };
      const answers = await acceptRequests(o[op], withParts(doc, body), caller, key, {
        onInternal: (err, item) => ctx.state.log.error({ err, item }, `REST ${op} failed`),
      });
      answerRequests(ctx, body.form, doc, answers);
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
