// The core's error family (core/errors.ts): each class's SPEC §7 code, where its issues point, limits, and
// what an unexpected error becomes on the wire.
import assert from 'node:assert/strict';
import {
  AttachmentError,
  AuthError,
  headerIssue,
  IdempotencyConflict,
  NotFound,
  parameterIssue,
  SendError,
  ServerBusy,
  sourceOf,
  statusMessage,
  TemplateError,
  ThrottledError,
  toSendError,
  UnknownTemplate,
  unknownTemplateIssue,
  ValidationError,
} from '../../src/core/errors.js';

describe('errors', () => {
  it('SendError: its message is the first issue\'s text, else the status', () => {
    assert.equal(new SendError(1, [{ code: 1, field: 'a', text: 'a is required' }]).message, 'a is required');
    assert.equal(new SendError(9, []).message, 'status 9');
  });

  it('ValidationError: one kind of issue answers its code, mixed codes answer 1', () => {
    assert.equal(new ValidationError([{ code: 5, field: 'x', text: 't' }, { code: 5, field: 'y', text: 't' }]).status, 5);
    assert.equal(new ValidationError([{ code: 3, field: 'x', text: 't' }]).status, 3);
    assert.equal(new ValidationError([{ code: 1, field: 'x', text: 't' }, { code: 5, field: 'y', text: 't' }]).status, 1);
    assert.equal(new ValidationError([{ code: 5, field: 'x', text: 't' }, { code: 3, field: 'y', text: 't' }]).status, 1);
  });

  it('AuthError: code 2 on clientHashKey, or on the header the credential came in', () => {
    const field = new AuthError();
    assert.equal(field.status, 2);
    assert.deepEqual(field.issues, [{ code: 2, field: 'clientHashKey', text: 'unknown client or bad credentials' }]);
    const header = new AuthError('bad token', 'Authorization');
    assert.deepEqual(header.issues, [{ code: 2, field: 'Authorization', text: 'bad token', source: { header: 'Authorization' } }]);
    assert.deepEqual(sourceOf(header.issues[0]!), { header: 'Authorization' });
  });

  it('TemplateError and UnknownTemplate: code 3, on the part or on messageType', () => {
    const t = new TemplateError('template html does not compile', 'htmlBody');
    assert.equal(t.status, 3);
    assert.deepEqual(t.issues, [{ code: 3, field: 'htmlBody', text: 'template html does not compile' }]);
    const u = new UnknownTemplate([unknownTemplateIssue('invoice version 2')]);
    assert.equal(u.status, 3);
    assert.deepEqual(u.issues, [{ code: 3, field: 'messageType', text: 'unknown messageType invoice version 2' }]);
    assert.ok(!(u instanceof TemplateError), 'not found is told apart from a broken template (404, not 400)');
  });

  it('IdempotencyConflict: code 4 on IDEMPOTENCY_KEY, or on the Idempotency-Key header', () => {
    assert.deepEqual(new IdempotencyConflict('used').issues, [{ code: 4, field: 'IDEMPOTENCY_KEY', text: 'used' }]);
    const h = new IdempotencyConflict('used', 'Idempotency-Key');
    assert.equal(h.status, 4);
    assert.deepEqual(h.issues[0]!.source, { header: 'Idempotency-Key' });
  });

  it('AttachmentError: code 5; tooLarge only when an issue carries a limit', () => {
    const bad = new AttachmentError([{ code: 5, field: 'attachments[0].content', text: 'not base64' }]);
    assert.equal(bad.status, 5);
    assert.equal(bad.tooLarge, false);
    const big = new AttachmentError([
      { code: 5, field: 'attachments[0].content', text: 'not base64' },
      { code: 5, field: 'attachments[1].content', text: 'too large', limit: 1024 },
    ]);
    assert.equal(big.tooLarge, true);
    assert.equal(new AttachmentError([{ code: 5, text: 'none', limit: 0 }]).tooLarge, true, 'a limit of 0 is a limit');
  });

  it('NotFound: code 6 on messageId unless told otherwise', () => {
    assert.deepEqual(new NotFound('no message 5').issues, [{ code: 6, field: 'messageId', text: 'no message 5' }]);
    assert.equal(new NotFound('no such client', 'clientId').issues[0]!.field, 'clientId');
    assert.equal(new NotFound('x').status, 6);
  });

  it('ThrottledError: code 7, retryAfterMs kept, the text rounds the wait up to whole seconds', () => {
    const e = new ThrottledError(1001, 5);
    assert.equal(e.status, 7);
    assert.equal(e.retryAfterMs, 1001);
    assert.deepEqual(e.issues, [{ code: 7, field: 'clientHashKey', text: 'throttled, retry later: this client may make 5 request(s) per second; retry after 2 s' }]);
    assert.match(new ThrottledError(1, 1).issues[0]!.text, /retry after 1 s$/);
  });

  it('ServerBusy: code 9 with no field, retryAfterS kept', () => {
    const e = new ServerBusy(3);
    assert.equal(e.status, 9);
    assert.equal(e.retryAfterS, 3);
    assert.deepEqual(e.issues, [{ code: 9, text: 'the gateway is busy, retry in 3 s' }]);
  });

  it('sources: explicit source first, else the field, else none', () => {
    assert.deepEqual(sourceOf({ code: 1, field: 'subject', text: 't' }), { field: 'subject' });
    assert.equal(sourceOf({ code: 9, text: 't' }), undefined);
    assert.deepEqual(sourceOf(parameterIssue('limit', 'must be a number')), { parameter: 'limit' });
    assert.deepEqual(parameterIssue('limit', 'm'), { code: 1, field: 'limit', text: 'm', source: { parameter: 'limit' } });
    assert.deepEqual(headerIssue(5, 'Content-Length', 'too large'), { code: 5, field: 'Content-Length', text: 'too large', source: { header: 'Content-Length' } });
    assert.deepEqual(sourceOf({ code: 5, field: 'file', text: 't', source: { part: 'file' } }), { part: 'file' });
  });

  it('statusMessage keeps code, field and text only', () => {
    assert.deepEqual(statusMessage({ code: 5, field: 'f', text: 't', source: { part: 'p' }, limit: 9 }), { code: 5, field: 'f', text: 't' });
  });

  it('toSendError: a SendError passes unchanged; anything else is code 9 with the correlation id and no internals', () => {
    const known = new NotFound('no message 5');
    assert.equal(toSendError(known, 'c-1'), known);
    const internal = new Error('relation "messages" does not exist at /srv/app/src/store/messages.ts:42');
    for (const err of [internal, 'a string', undefined, { code: 'ECONNREFUSED' }]) {
      const e = toSendError(err, 'corr-42');
      assert.ok(e instanceof SendError);
      assert.equal(e.status, 9);
      assert.equal(e.issues.length, 1);
      assert.equal(e.issues[0]!.text, 'internal error, safe to retry (correlation id corr-42)');
      assert.equal(e.issues[0]!.field, undefined);
      const answered = [e.message, ...e.issues.map((i) => `${i.field ?? ''} ${i.text}`)].join('\n');
      assert.ok(!/relation "|\/srv|messages\.ts|ECONNREFUSED|a string/.test(answered), answered);
    }
  });
});
