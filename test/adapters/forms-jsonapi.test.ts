// The JSON:API codec: documents -> requests per operation, management attributes, and errors with their source.
import assert from 'node:assert/strict';
import { AttachmentError, headerIssue, parameterIssue, SendError, UnknownTemplate, unknownTemplateIssue, ValidationError } from '../../src/core/errors.js';
import { jsonApiAnswer, jsonApiBatchAnswer, jsonApiErrors, readJsonApi, resourceAttributes } from '../../src/adapters/forms/jsonapi.js';
import { httpStatusOf } from '../../src/adapters/forms/http-status.js';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof SendError) return e;
    throw e;
  }
  assert.fail('no refusal');
};

describe('JSON:API codec', () => {
  it('reads one request, nulls dropped, relationships resolved with where each part sat', () => {
    const doc = {
      data: { type: 'sendRequest', id: 'r1', attributes: { mailSubject: 's', partnerRef: null }, relationships: { attachments: { data: [{ type: 'attachments', id: 'a' }] } } },
      included: [{ type: 'attachments', id: 'a', attributes: { fileName: 'f.pdf', content: null } }],
    };
    const r = readJsonApi(doc, 'send');
    assert.deepEqual(r.items, [{ mailSubject: 's', attachments: [{ fileName: 'f.pdf', properties: [] }], properties: [], params: undefined }]);
    assert.deepEqual([r.batch, r.ids, r.locations], [false, ['r1'], [{ 'attachments[0]': '/included/0' }]]);
  });

  it('takes the resource types of its operation only', () => {
    assert.deepEqual(readJsonApi({ data: { type: 'resendRequest', attributes: { messageId: 1, userName: null } } }, 'resend').items, [{ messageId: 1, params: undefined, attachments: [], properties: [] }]);
    const e = refusal(() => readJsonApi({ data: { type: 'sendRequest', attributes: {} } }, 'resend'));
    assert.deepEqual(e.issues, [{ code: 1, field: '/data/type', text: '/data/type must be resendRequest or resendRequests' }]);
    assert.equal(refusal(() => readJsonApi({ data: [] }, 'send')).issues[0]!.field, '/data');
  });

  it('management attributes keep nulls; a plain object is the attributes themselves', () => {
    assert.deepEqual(resourceAttributes({ data: { type: 'clients', attributes: { defaultFromName: null } } }, ['clients'], true), { defaultFromName: null });
    assert.deepEqual(resourceAttributes({ name: 'x' }, ['clients'], false), { name: 'x' });
    assert.deepEqual(refusal(() => resourceAttributes({ data: { type: 'x', attributes: 3 } }, ['clients'], true)).issues.map((i) => i.field), ['/data/type', '/data/attributes']);
  });

  it('errors name a header or parameter by name, a field by its pointer, a part by its /parts pointer', () => {
    const e = new ValidationError([
      headerIssue(1, 'X-Origin', 'X-Origin is too long'),
      parameterIssue('clientHashKey', 'not in the query'),
      { code: 1, field: 'attachments[0].fileName', text: 'bad name' },
      { code: 1, field: '/parts/a', text: 'bad part', source: { part: 'a' } },
    ]);
    assert.deepEqual(jsonApiErrors(e, 400, '/data', { 'attachments[0]': '/included/3' }).map((x) => x.source), [
      { header: 'X-Origin' },
      { parameter: 'clientHashKey' },
      { pointer: '/included/3/attributes/fileName' },
      { pointer: '/parts/a' },
    ]);
  });

  it('answers with the status of each kind: unknown template 404, over a limit 413, SPEC §7 lists code, field, text only', () => {
    const unknown = new UnknownTemplate([unknownTemplateIssue('NOPE')]);
    const answer = jsonApiAnswer({ ok: false, error: unknown });
    assert.equal(answer.errors![0]!.status, '404');
    assert.deepEqual(answer.meta.responseStatus, { code: 3, messages: [{ code: 3, field: 'messageType', text: 'unknown messageType NOPE' }] });
    const big = new AttachmentError([{ code: 5, field: 'attachments[0].content', text: 'too big', limit: 16 }]);
    assert.equal(httpStatusOf(big), 413);
    assert.equal(httpStatusOf(new AttachmentError([{ code: 5, field: 'attachments[0].content', text: 'not base64' }])), 400);
    const batch = jsonApiBatchAnswer([{ ok: true, answer: { messageId: 7, status: 0, params: [] } }, { ok: false, error: big }], [undefined, 'b']);
    assert.deepEqual(batch.data!.map((d) => d.id), ['7', 'b']);
    assert.equal((batch.data![1]!.meta as { errors: { status: string; source: unknown }[] }).errors[0]!.status, '413');
  });
});
