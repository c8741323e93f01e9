// The plain JSON codec: one flat object for send and resend alike, nulls "not given", and its answer.
import assert from 'node:assert/strict';
import { headerIssue, SendError, ValidationError } from '../../src/core/errors.js';
import { inputFromPlainJson, plainJsonAnswer, readPlainJson } from '../../src/adapters/forms/plain-json.js';

describe('plain JSON codec', () => {
  it('drops nulls at every level and takes recipientAddress as recipientEmailAddress', () => {
    const input = inputFromPlainJson({ recipientAddress: 'a@example.com', userName: null, attachments: [{ fileName: 'f', content: null, properties: [{ key: 'K', value: null }] }], params: [{ key: 'P', value: 'v', x: null }] });
    assert.deepEqual(input, { recipientEmailAddress: 'a@example.com', attachments: [{ fileName: 'f', properties: [{ key: 'K' }] }], properties: undefined, params: [{ key: 'P', value: 'v' }] });
  });

  it('a body that is no object is refused naming the place given', () => {
    for (const [body, field] of [[[], '/'], ['x', 'body']] as const) {
      assert.throws(() => readPlainJson(body, field), (e: unknown) => e instanceof SendError && e.issues[0]!.field === field && e.status === 1);
    }
    assert.deepEqual(readPlainJson({ messageId: 3 }), { batch: false, items: [{ messageId: 3, attachments: undefined, properties: undefined, params: undefined }], ids: [undefined], locations: [{}] });
  });

  it('answers the messageId, or the status with each issue as SPEC §7 lists it (no wire-specific source)', () => {
    assert.deepEqual(plainJsonAnswer({ ok: true, answer: { messageId: 5, status: 0, params: [{ key: 'A', value: 'b' }] } }), { meta: { responseStatus: { code: 0, messages: [] }, params: [{ key: 'A', value: 'b' }] }, messageId: 5 });
    const e = new ValidationError([headerIssue(1, 'X-Issuer', 'X-Issuer is too long')]);
    assert.deepEqual(plainJsonAnswer({ ok: false, error: e }).meta.responseStatus, { code: 1, messages: [{ code: 1, field: 'X-Issuer', text: 'X-Issuer is too long' }] });
  });
});
