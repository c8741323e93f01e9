// acceptRequests, the one operation of every intake: caller defaults, per-item keys, refusals item by item,
// internal errors answered or thrown, and a conflict over a header key naming that header.
import assert from 'node:assert/strict';
import { AttachmentError, IdempotencyConflict, NotFound, ValidationError } from '../../src/core/errors.js';
import { acceptRequests, type Caller, type Operation } from '../../src/core/requests.js';
import type { IntakeContext, SendRequestInput } from '../../src/core/send-request.js';

const caller: Caller = { intake: 'rest', correlationId: 'c-1', clientHashKey: 'KEY', userName: 'header user', origin: 'o', issuer: 'i', authorization: 'Bearer t' };

/** An operation that records what it was called with; an item's `fail` says how it fails. */
function recorder() {
  const calls: { input: SendRequestInput; ctx: IntakeContext }[] = [];
  const run: Operation = async (input, ctx) => {
    calls.push({ input, ctx });
    if (input.fail === 'conflict') throw new IdempotencyConflict('IDEMPOTENCY_KEY k was already used for message 1 with another payload');
    if (input.fail === 'missing') throw new NotFound('message 9 not found');
    if (input.fail === 'crash') throw new Error('connection refused at /var/lib/pg');
    return { messageId: calls.length, status: 0, params: [] };
  };
  return { calls, run };
}

describe('acceptRequests', () => {
  it("fills the caller's defaults under the item's own fields and passes the context through", async () => {
    const r = recorder();
    const answers = await acceptRequests(r.run, { batch: false, items: [{ userName: 'body user' }] }, caller, { idempotencyKey: 'K', header: 'Idempotency-Key' });
    assert.deepEqual(answers, [{ ok: true, answer: { messageId: 1, status: 0, params: [] } }]);
    assert.deepEqual(r.calls[0]!.input, { userName: 'body user', clientHashKey: 'KEY' });
    assert.deepEqual(r.calls[0]!.ctx, { intake: 'rest', correlationId: 'c-1', origin: 'o', issuer: 'i', authorization: 'Bearer t', idempotencyKey: 'K' });
  });

  it("bounds the caller's key as sent: 255 characters pass for every item of a batch, 256 refuse them all, nothing run", async () => {
    const ok = recorder();
    const answers = await acceptRequests(ok.run, { batch: true, items: [{}, {}] }, caller, { idempotencyKey: 'k'.repeat(255), header: 'Idempotency-Key' });
    assert.ok(answers.every((a) => a.ok), JSON.stringify(answers));
    assert.equal(ok.calls[1]!.ctx.idempotencyKey, `${'k'.repeat(255)}#1`);
    const over = recorder();
    const refused = await acceptRequests(over.run, { batch: true, items: [{}, {}] }, caller, { idempotencyKey: 'k'.repeat(256), header: 'Idempotency-Key' });
    assert.equal(over.calls.length, 0);
    for (const a of refused) {
      assert.ok(!a.ok && a.error instanceof ValidationError);
      assert.equal(a.error.issues[0]!.field, 'Idempotency-Key');
      assert.equal(a.error.issues[0]!.text, 'Idempotency-Key must be at most 255 characters');
    }
    const amqp = await acceptRequests(recorder().run, { batch: false, items: [{}] }, { ...caller, intake: 'amqp' }, { idempotencyKey: 'm\u0000' });
    assert.ok(!amqp[0]!.ok && amqp[0]!.error.issues[0]!.field === 'message_id');
  });

  it('keys each item of a batch as <base>#<index>, the caller key and the delivery key alike', async () => {
    const a = recorder();
    await acceptRequests(a.run, { batch: true, items: [{}, {}] }, caller, { idempotencyKey: 'K' });
    assert.deepEqual(a.calls.map((c) => c.ctx.idempotencyKey), ['K#0', 'K#1']);
    const b = recorder();
    await acceptRequests(b.run, { batch: true, items: [{}, {}] }, caller, { delivery: 'amqp-message:x', redelivered: true });
    assert.deepEqual(b.calls.map((c) => c.ctx.delivery), [{ key: 'amqp-message:x#0', redelivered: true }, { key: 'amqp-message:x#1', redelivered: true }]);
    assert.equal(b.calls[0]!.ctx.idempotencyKey, undefined);
  });

  it('answers each item alone: a refused item, or one its wire refused already, never stops the others', async () => {
    const r = recorder();
    const refused = new AttachmentError([{ code: 5, field: 'attachments[0].attachmentRef', text: 'names no part' }]);
    const answers = await acceptRequests(r.run, { batch: true, items: [{ fail: 'missing' }, refused, {}] }, caller, {});
    assert.deepEqual(answers.map((a) => (a.ok ? 0 : a.error.status)), [6, 5, 0]);
    assert.equal(answers[1]!.ok ? undefined : answers[1]!.error, refused);
    assert.equal(r.calls.length, 2, 'the item refused by its wire is not run');
  });

  it('an internal error is code 9 without detail, told to onInternal; with throwInternal it is thrown instead', async () => {
    const told: number[] = [];
    const r = recorder();
    const answers = await acceptRequests(r.run, { batch: true, items: [{}, { fail: 'crash' }] }, caller, {}, { onInternal: (_e, i) => told.push(i) });
    assert.equal(answers[1]!.ok, false);
    const error = answers[1]!.ok ? undefined : answers[1]!.error;
    assert.equal(error?.status, 9);
    assert.doesNotMatch(error!.issues[0]!.text, /\/var\/lib|refused/);
    assert.match(error!.issues[0]!.text, /correlation id c-1/);
    assert.deepEqual(told, [1]);
    await assert.rejects(acceptRequests(recorder().run, { batch: false, items: [{ fail: 'crash' }] }, caller, {}, { throwInternal: true }), /connection refused/);
  });

  it("a conflict over the caller's header key names the header; over the IDEMPOTENCY_KEY param it stays the param", async () => {
    const key = { idempotencyKey: 'K', header: 'Idempotency-Key' };
    const [byHeader] = await acceptRequests(recorder().run, { batch: false, items: [{ fail: 'conflict' }] }, caller, key);
    const e = byHeader!.ok ? undefined : byHeader!.error;
    assert.ok(e instanceof IdempotencyConflict);
    assert.deepEqual(e.issues, [{ code: 4, field: 'Idempotency-Key', text: 'Idempotency-Key k was already used for message 1 with another payload', source: { header: 'Idempotency-Key' } }]);
    const params = [{ key: 'IDEMPOTENCY_KEY', value: 'k' }];
    const [byParam] = await acceptRequests(recorder().run, { batch: false, items: [{ fail: 'conflict', params }] }, caller, key);
    assert.equal(byParam!.ok ? undefined : byParam!.error.issues[0]!.field, 'IDEMPOTENCY_KEY');
    const [noHeader] = await acceptRequests(recorder().run, { batch: false, items: [{ fail: 'conflict' }] }, caller, { idempotencyKey: 'K' });
    assert.equal(noHeader!.ok ? undefined : noHeader!.error.issues[0]!.field, 'IDEMPOTENCY_KEY', 'AMQP message_id: no header to name');
  });

  it('a ValidationError item keeps its issues as they are', async () => {
    const refused = new ValidationError([{ code: 1, field: 'xmlData', text: 'xmlData is too deep' }]);
    const [a] = await acceptRequests(recorder().run, { batch: false, items: [refused] }, caller, {});
    assert.deepEqual(a, { ok: false, error: refused });
  });
});
