// AMQP intake (SPEC §8): consume the request queue, answer on reply_to, ack only after the answer is confirmed.
import { createHash, randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from 'pino';
import { lazyChild } from '../../log.js';
import { AuthError, headerIssue, SendError, ServerBusy, toSendError, ValidationError } from '../../core/errors.js';
import type { BodyMemory, MemoryLease } from '../../core/memory-budget.js';
import { acceptRequests, type Answer, type Caller, type KeyBase, type Operation } from '../../core/requests.js';
import { answerBody, CONTENT_TYPES, decodeBody, formOf, METHODS, readRequest, type BodyForm, type Method, type ParsedRequest } from './bodies.js';

export type AmqpOptions = {
  url: string;
  queue: string;
  prefetch: number;
  replyExchange: string;
  maxAttempts: number;
  retryDelayMs: number;
  /** The largest body taken, compressed or inflated (MAX_REQUEST_BYTES). */
  maxBytes: number;
  /** The process's budget for bodies held in memory: a message's body counts, inflated bytes included. */
  memory?: BodyMemory;
  /** Whether a key in the X-Client-Hash-Key header names an enabled client (checked before the body is inflated). */
  knownClient?: (hashKey: string) => Promise<boolean>;
  log: Logger;
  send: Operation;
  resend: Operation;
};

export type AmqpState = 'connecting' | 'consuming' | 'reconnecting' | 'stopped';

const ATTEMPTS_HEADER = 'x-hammy-attempts';
/** What a compressed body reserves before it is inflated; it takes more as it grows. */
const INFLATE_START = 64 * 1024;

/** AMQP headers keep the producer's spelling; the Hammy page's are matched case-insensitively. */
function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : headers[key];
  return v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

/** Headers the broker or this intake add on the way (dead-lettering, our retries): not part of what the producer sent. */
const ADDED_HEADER = /^(x-death|x-first-death-|x-last-death-|x-hammy-)/i;

/**
 * The key a message is found again by: its message_id, else a digest of the message itself (body and the
 * properties a producer sets). A broker redelivery and our own delayed retry carry the same body and properties,
 * so the items a failed attempt stored are found again instead of being stored twice (SPEC §8).
 */
export function deliveryKey(msg: Pick<ConsumeMessage, 'content' | 'properties'>): string {
  const p = msg.properties;
  if (p.messageId) return String(p.messageId);
  const headers = Object.entries(p.headers ?? {}).filter(([k]) => !ADDED_HEADER.test(k)).sort(([a], [b]) => (a < b ? -1 : 1));
  const h = createHash('sha256').update(JSON.stringify([p.contentType, p.contentEncoding, p.correlationId, p.replyTo, p.timestamp, p.type, p.appId, headers]));
  return `amqp-message:${h.update(msg.content).digest('base64url')}`;
}

/** Publishes and waits for the broker's confirm: only then is the request acknowledged (SPEC §8). */
function publishConfirmed(ch: ConfirmChannel, exchange: string, routingKey: string, body: Buffer, opts: Options.Publish): Promise<void> {
  return new Promise((resolve, reject) => {
    ch.publish(exchange, routingKey, body, { persistent: true, ...opts }, (err) => (err ? reject(err) : resolve()));
  });
}

export async function startAmqpIntake(o: AmqpOptions) {
  const dlq = `${o.queue}.dead`;
  // One delay queue per back-off step (a queue-wide TTL: per-message TTLs expire only at the head of a queue).
  const delayOf = (attempt: number) => o.retryDelayMs * attempt;
  const retryQueue = (attempt: number) => `${o.queue}.retry.${delayOf(attempt)}ms`;
  const inflight = new Set<Promise<void>>();
  // Each message's share of the body budget, given back once it is answered.
  const leases = new Map<ConsumeMessage, MemoryLease>();
  let state: AmqpState = 'connecting';
  let current: { ch: ConfirmChannel; tag: string } | undefined;
  let stopping = false;

  /** Runs the core for every request the message carries; a transient failure (code 9) is thrown, not answered. */
  async function runRequests(msg: ConsumeMessage): Promise<{ answers: Answer[]; parsed: Pick<ParsedRequest, 'batch' | 'ids'>; method: Method; form: BodyForm }> {
    const p = msg.properties;
    const method = (header(p.headers, 'X-Method-Name') ?? '') as Method;
    const form = formOf(p.contentType);
    const fallback = { parsed: { batch: false, ids: [undefined] }, method: METHODS.includes(method) ? method : ('Send_V2_Send' as Method), form: form ?? 'json' };
    try {
      if (!METHODS.includes(method)) {
        throw new ValidationError([headerIssue(1, 'X-Method-Name', `X-Method-Name must be ${METHODS.join(' or ')}, got ${JSON.stringify(method)}`)]);
      }
      if (!form) throw new ValidationError([{ code: 1, field: 'content_type', text: `content_type must be application/xml, application/json or application/vnd.api+json, got ${JSON.stringify(p.contentType ?? null)}` }]);
      const parsed = readRequest(method, form, await decodeInBudget(msg));
      const caller: Caller = {
        intake: 'amqp',
        correlationId: typeof p.correlationId === 'string' && p.correlationId ? p.correlationId : randomUUID(),
        clientHashKey: header(p.headers, 'X-Client-Hash-Key'),
        userName: header(p.headers, 'X-User-Name'),
        origin: header(p.headers, 'X-Origin'),
        issuer: header(p.headers, 'X-Issuer'),
        authorization: header(p.headers, 'Authorization'),
      };
      // message_id is the strict key (SPEC §6); without it the message itself is (deliveryKey). Either way a
      // redelivered message (the broker's, or our own retry from a delay queue) finds what it stored.
      const key: KeyBase = p.messageId
        ? { idempotencyKey: deliveryKey(msg) }
        : { delivery: deliveryKey(msg), redelivered: msg.fields.redelivered || header(p.headers, ATTEMPTS_HEADER) !== undefined };
      const answers = await acceptRequests(method === 'Send_V2_Send' ? o.send : o.resend, parsed, caller, key, { throwInternal: true });
      return { answers, parsed, method, form };
    } catch (e) {
      if (e instanceof SendError && e.status !== 9) return { ...fallback, answers: [{ ok: false, error: e }] };
      throw e;
    } finally {
      // Handled (or to be retried later): the body's bytes are no longer held for it.
      leases.get(msg)?.release();
      leases.delete(msg);
    }
  }

  /**
   * The body as text, its bytes (received and inflated) held in the memory budget until the request is answered;
   * an unknown key in the header is refused before anything is inflated. Over the budget: ServerBusy, retried later.
   */
  async function decodeInBudget(msg: ConsumeMessage): Promise<string> {
    const p = msg.properties;
    const key = header(p.headers, 'X-Client-Hash-Key')?.trim();
    if (key && o.knownClient && !(await o.knownClient(key))) throw new AuthError(undefined, 'X-Client-Hash-Key');
    if (!o.memory) return decodeBody(msg.content, p.contentEncoding, p.contentType, o.maxBytes);
    const memory = o.memory;
    // amqplib holds the received bytes either way; what this process adds is the inflated body, counted as it grows.
    const identity = ['', 'identity'].includes((p.contentEncoding ?? '').trim().toLowerCase());
    const lease = await memory.reserve(identity ? msg.content.length : Math.min(INFLATE_START, o.maxBytes), !key);
    leases.set(msg, lease);
    const room = (inflated: number) => (inflated <= lease.held || lease.take(inflated - lease.held) ? undefined : new ServerBusy(memory.retryAfterS));
    return decodeBody(msg.content, p.contentEncoding, p.contentType, o.maxBytes, room);
  }

  async function deadLetter(ch: ConfirmChannel, msg: ConsumeMessage, reason: string) {
    const headers = { ...(msg.properties.headers ?? {}), 'x-hammy-dead-reason': reason.slice(0, 500), 'x-hammy-queue': o.queue };
    await publishConfirmed(ch, '', dlq, msg.content, { ...propsOf(msg), headers });
  }

  const propsOf = (msg: ConsumeMessage): Options.Publish => {
    const p = msg.properties;
    // Every property deliveryKey reads is carried over, so a retried copy keeps its key.
    return { contentType: p.contentType, contentEncoding: p.contentEncoding, correlationId: p.correlationId, messageId: p.messageId, replyTo: p.replyTo, headers: p.headers, timestamp: p.timestamp, type: p.type, appId: p.appId };
  };

  async function reply(ch: ConfirmChannel, msg: ConsumeMessage, body: string, form: BodyForm) {
    const p = msg.properties;
    const app = header(p.headers, 'replyToApp');
    const opts = { contentType: CONTENT_TYPES[form], correlationId: p.correlationId, headers: { 'X-Method-Name': header(p.headers, 'X-Method-Name') } };
    if (app) await publishConfirmed(ch, o.replyExchange, app, Buffer.from(body), opts);
    else await publishConfirmed(ch, '', p.replyTo!, Buffer.from(body), opts);
  }

  async function handle(ch: ConfirmChannel, msg: ConsumeMessage) {
    const p = msg.properties;
    const log = lazyChild(o.log, { correlationId: p.correlationId, amqpMessageId: p.messageId });
    const canReply = !!(p.replyTo || header(p.headers, 'replyToApp'));
    try {
      let result;
      try {
        result = await runRequests(msg);
      } catch (e) {
        // The database or another part is down: try again later, a bounded number of times (never a loop).
        const attempts = Number(header(p.headers, ATTEMPTS_HEADER) ?? 0) + 1;
        log().warn({ err: e, attempts }, 'request could not be processed now');
        if (attempts < o.maxAttempts) {
          // Parked in a delay queue whose TTL dead-letters it back to the request queue: no prefetch slot is held meanwhile.
          await publishConfirmed(ch, '', retryQueue(attempts), msg.content, { ...propsOf(msg), headers: { ...(p.headers ?? {}), [ATTEMPTS_HEADER]: attempts } });
          ch.ack(msg);
          return;
        }
        const err = toSendError(e, p.correlationId ?? 'amqp');
        const form = formOf(p.contentType) ?? 'json';
        const method = (header(p.headers, 'X-Method-Name') ?? 'Send_V2_Send') as Method;
        if (canReply) await reply(ch, msg, answerBody(method, form, [{ ok: false, error: err }], { batch: false, ids: [undefined] }), form);
        await deadLetter(ch, msg, `gave up after ${attempts} attempts: ${err.issues[0]?.text ?? 'internal error'}`);
        ch.ack(msg);
        return;
      }
      const { answers, parsed, method, form } = result;
      if (canReply) await reply(ch, msg, answerBody(method, form, answers, parsed), form);
      else if (answers.some((a) => !a.ok)) {
        const first = answers.find((a): a is Extract<Answer, { ok: false }> => !a.ok)!;
        await deadLetter(ch, msg, `refused (code ${first.error.status}) and no reply_to: ${first.error.issues.map((i) => i.text).join('; ')}`);
      }
      ch.ack(msg);
      if (o.log.isLevelEnabled('debug')) log().debug({ outcome: answers.map((a) => (a.ok ? a.answer.messageId : a.error.status)) }, 'amqp request handled');
    } catch (e) {
      // The channel went away before the ack: the broker redelivers, and idempotency finds the stored message.
      log().warn({ err: e }, 'amqp request not acknowledged; it will be redelivered');
    }
  }

  const conn = await amqp.connect(o.url, {
    // Named, so an operator (or a test) can find this connection in `rabbitmqctl list_connections`.
    clientProperties: { connection_name: `hammy-gateway ${o.queue} pid ${process.pid}` },
    recovery: {
      waitForConnect: false,
      initialDelay: 200,
      maxDelay: 10_000,
      maxRetries: Infinity,
      setup: async (model: amqp.ChannelModel) => {
        const ch = await model.createConfirmChannel();
        ch.on('error', (err: Error) => o.log.warn({ err }, 'amqp channel error'));
        await ch.prefetch(o.prefetch);
        await ch.assertQueue(o.queue, { durable: true });
        await ch.assertQueue(dlq, { durable: true });
        for (let attempt = 1; attempt < o.maxAttempts; attempt++) {
          const args = { 'x-message-ttl': delayOf(attempt), 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': o.queue };
          await ch.assertQueue(retryQueue(attempt), { durable: true, arguments: args });
        }
        await ch.assertExchange(o.replyExchange, 'direct', { durable: true });
        if (stopping) return;
        const { consumerTag } = await ch.consume(o.queue, (msg: ConsumeMessage | null) => {
          if (!msg) return;
          const p: Promise<void> = handle(ch, msg).finally(() => inflight.delete(p));
          inflight.add(p);
        });
        current = { ch, tag: consumerTag };
        state = 'consuming';
        o.log.info({ queue: o.queue }, 'amqp intake consuming');
      },
    },
  });
  conn.on('disconnect', (err: Error) => {
    state = stopping ? 'stopped' : 'reconnecting';
    current = undefined;
    if (!stopping) o.log.warn({ err: err?.message }, 'amqp connection lost; reconnecting');
  });
  conn.on('connect-failed', (err: Error) => o.log.warn({ err: err?.message }, 'amqp connection attempt failed'));
  conn.on('error', (err: Error) => o.log.warn({ err: err?.message }, 'amqp connection error'));
  conn.on('handler-error', (err: Error) => o.log.error({ err }, 'amqp handler error'));

  return {
    state: () => state,
    /** Stops consuming, finishes what is in flight, then closes (SPEC §8, SIGTERM). */
    async stop() {
      stopping = true;
      const consuming = current;
      if (consuming) await consuming.ch.cancel(consuming.tag).catch(() => undefined);
      await Promise.all([...inflight]);
      state = 'stopped';
      // Closing the channel first waits for the broker's close-ok, which follows our last acks.
      if (consuming) await consuming.ch.close().catch(() => undefined);
      await conn.close().catch(() => undefined);
    },
  };
}
export type AmqpIntake = Awaited<ReturnType<typeof startAmqpIntake>>;
