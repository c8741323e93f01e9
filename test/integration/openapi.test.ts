// The OpenAPI 3.1 document of the REST intake is kept true: real requests and answers of the running gateway validate against it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { DEMO_KEY, FIXTURES, fixture, fixtureBytes, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { api } from '../helpers/api.js';
import { JSONAPI, post, postJson, postJsonApi, postMultipart, RESEND, SEND, type Part, type RestResult } from '../helpers/rest.js';

const FILE = path.join(FIXTURES, '..', 'openapi', 'send-v2.openapi.json');
const spec = JSON.parse(fs.readFileSync(FILE, 'utf8'));
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, 'openapi.json');

const esc = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
/** Follows `$ref`s inside the document; returns the JSON pointer of where the object really is. */
function at(pointer: string): { value: any; pointer: string } {
  let value: any = spec;
  for (const token of pointer.split('/').slice(1)) value = value?.[token.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (value && typeof value.$ref === 'string' && value.$ref.startsWith('#/') && Object.keys(value).length === 1) return at(value.$ref.slice(1));
  return { value, pointer };
}
function validate(schemaPointer: string, data: unknown): string | undefined {
  const check = ajv.compile({ $ref: `openapi.json#${schemaPointer}` });
  return check(data) ? undefined : ajv.errorsText(check.errors);
}

type Exchange = { what: string; path: string; method?: string; type: string; request: unknown; requestValid?: boolean; res: RestResult };

/** The request as the document describes it: the body, or for multipart an object of parts (message parsed). */
const multipartRequest = (parts: Part[]) => Object.fromEntries(parts.map((p) => [p.name, p.name === 'message' ? JSON.parse(String(p.body)) : '(bytes)']));

function checkExchange(x: Exchange) {
  const op = at(`/paths/${esc(x.path)}/${x.method ?? 'post'}`);
  assert.ok(op.value, `${x.what}: ${x.path} is documented`);
  if (x.method !== 'get' && x.request !== undefined) {
    const media = at(`${op.pointer}/requestBody`);
    const content = media.value.content[x.type];
    assert.ok(content, `${x.what}: request type ${x.type} is documented`);
    const problem = validate(`${media.pointer}/content/${esc(x.type)}/schema`, x.request);
    if (x.requestValid === false) assert.ok(problem, `${x.what}: the document refuses this request too`);
    else assert.equal(problem, undefined, `${x.what}: request: ${problem}`);
  }
  const resp = at(`${op.pointer}/responses/${x.res.status}`);
  assert.ok(resp.value, `${x.what}: status ${x.res.status} is documented`);
  const type = x.res.headers.get('content-type')!.split(';')[0]!;
  assert.ok(resp.value.content[type], `${x.what}: answer type ${type} for ${x.res.status} is documented`);
  const problem = validate(`${resp.pointer}/content/${esc(type)}/schema`, x.res.json);
  assert.equal(problem, undefined, `${x.what}: answer ${x.res.status} ${x.res.text}: ${problem}`);
}

const direct = { recipientName: 'X', recipientEmailAddress: 'x@example.com', mailSubject: 's', mailBody: 'b' };
const jsonApi = (attributes: Record<string, unknown>) => ({ data: { type: 'sendRequest', attributes } });

describe('OpenAPI document of the REST intake', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ MAX_ATTACHMENTS: '2' });
  });
  after(async () => gw?.stop());
  const h = { 'X-Client-Hash-Key': DEMO_KEY };

  it('is a valid OpenAPI 3.1 document, served as written', async () => {
    const result = await new Validator().validate(FILE);
    assert.deepEqual(result, { valid: true });
    const res = await fetch(`${gw.url}/hammy/json/send/v2/openapi.json`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), spec);
    // The checks below can fail: an answer of another shape does not pass.
    const accepted = at(`${at(`/paths/${esc(SEND)}/post`).pointer}/responses/200`).pointer;
    assert.ok(validate(`${accepted}/content/${esc(JSONAPI)}/schema`, { data: { type: 'other', id: 1 }, meta: {} }));
    assert.ok(validate(`${accepted}/content/application~1json/schema`, { messageId: 'x' }));
  });

  it('every body form and answer of the send operation matches it', async () => {
    const ok = { clientHashKey: DEMO_KEY, ...direct };
    const parts: Part[] = [
      { name: 'message', type: 'application/json', body: JSON.stringify({ ...ok, attachments: [{ fileName: 'kep.png', attachmentRef: 'kep' }] }) },
      { name: 'kep', type: 'image/png', body: fixtureBytes('files', 'image.png') },
    ];
    const jsonapiSample = JSON.parse(fixture('amqp', 'sample-jsonapi.json'));
    const plainSample = JSON.parse(fixture('amqp', 'sample-json.json'));
    const batch = { data: [{ type: 'sendRequest', attributes: direct }, { type: 'sendRequest', attributes: { ...direct, recipientName: null } }] };
    const dry = jsonApi({ ...ok, params: [{ key: 'DRY_RUN', value: 'true' }] });
    const exchanges: Exchange[] = [
      { what: 'JSON:API queue sample', path: SEND, type: JSONAPI, request: jsonapiSample, res: await postJsonApi(gw.url, jsonapiSample, h) },
      { what: 'plain JSON queue sample', path: SEND, type: 'application/json', request: plainSample, res: await postJson(gw.url, plainSample, h) },
      { what: 'JSON:API batch with a bad item', path: SEND, type: JSONAPI, request: batch, res: await postJsonApi(gw.url, batch, h) },
      { what: 'DRY_RUN', path: SEND, type: JSONAPI, request: dry, res: await postJsonApi(gw.url, dry) },
      { what: 'multipart/form-data', path: SEND, type: 'multipart/form-data', request: multipartRequest(parts), res: await postMultipart(gw.url, parts) },
      { what: 'multipart/mixed on v1', path: '/hammy/json/send/v1/send', type: 'multipart/mixed', request: multipartRequest(parts), res: await postMultipart(gw.url, parts, {}, 'mixed', '/hammy/json/send/v1/send') },
    ];
    const invalid = jsonApi({ ...ok, mailSubject: 'x'.repeat(601), channel: 'FAX' });
    const unknownType = jsonApi({ ...ok, mailSubject: undefined, mailBody: undefined, messageType: 'NO.SUCH' });
    const tooMany = { ...ok, attachments: [1, 2, 3].map((i) => ({ fileName: `${i}.txt`, content: 'aGk=' })) };
    const key = { ...h, 'Idempotency-Key': `oa-${Date.now()}` };
    await postJsonApi(gw.url, jsonApi(direct), key);
    const changed = jsonApi({ ...direct, mailBody: 'changed' });
    exchanges.push(
      { what: '400 JSON:API', path: SEND, type: JSONAPI, request: invalid, requestValid: false, res: await postJsonApi(gw.url, invalid) },
      { what: '400 plain', path: SEND, type: 'application/json', request: { ...ok, channel: 'FAX' }, requestValid: false, res: await postJson(gw.url, { ...ok, channel: 'FAX' }) },
      { what: '401', path: SEND, type: JSONAPI, request: jsonApi(direct), res: await postJsonApi(gw.url, jsonApi(direct), { 'X-Client-Hash-Key': 'nobody' }) },
      { what: '404 messageType', path: SEND, type: JSONAPI, request: unknownType, res: await postJsonApi(gw.url, unknownType) },
      { what: '409', path: SEND, type: JSONAPI, request: changed, res: await postJsonApi(gw.url, changed, key) },
      { what: '413', path: SEND, type: 'application/json', request: tooMany, res: await postJson(gw.url, tooMany) },
    );
    await gw.db.knex.schema.renameTable('jobs', 'jobs_gone');
    try {
      exchanges.push({ what: '500', path: SEND, type: JSONAPI, request: jsonApi(ok), res: await postJsonApi(gw.url, jsonApi(ok)) });
    } finally {
      await gw.db.knex.schema.renameTable('jobs_gone', 'jobs');
    }
    const unsupported = await post(gw.url, SEND, 'x', { 'content-type': 'text/plain' });
    assert.equal(unsupported.status, 415);
    const resp415 = at(`${at(`/paths/${esc(SEND)}/post`).pointer}/responses/415`);
    assert.equal(validate(`${resp415.pointer}/content/${esc(JSONAPI)}/schema`, unsupported.json), undefined);

    assert.deepEqual(
      exchanges.map((x) => x.res.status),
      [200, 200, 200, 200, 200, 200, 400, 400, 401, 404, 409, 413, 500],
      exchanges.map((x) => `${x.what}: ${x.res.text}`).join('\n'),
    );
    for (const x of exchanges) checkExchange(x);
  });

  it('the resend operation matches it', async () => {
    const first = await postJson(gw.url, { clientHashKey: DEMO_KEY, ...direct });
    const plain = { clientHashKey: DEMO_KEY, messageId: first.json.messageId, recipientEmailAddress: 'new@example.com' };
    const doc = { data: { type: 'resendRequest', attributes: { messageId: String(first.json.messageId) } } };
    const missing = { data: { type: 'resendRequest', attributes: { messageId: 99999999 } } };
    for (const x of [
      { what: 'resend plain', path: RESEND, type: 'application/json', request: plain, res: await postJson(gw.url, plain, {}, RESEND) },
      { what: 'resend JSON:API', path: RESEND, type: JSONAPI, request: doc, res: await postJsonApi(gw.url, doc, h, RESEND) },
      { what: 'resend 404', path: RESEND, type: JSONAPI, request: missing, res: await postJsonApi(gw.url, missing, h, RESEND) },
    ] as Exchange[]) {
      checkExchange(x);
    }
  });
});

describe('OpenAPI document: status, history, batch, template and admin operations', () => {
  const TOKEN = 'openapi-admin-token-1';
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
  });
  after(async () => gw?.stop());

  /** One call as the document sees it: documented path template, method, body type and the real answer. */
  const exchange = async (what: string, docPath: string, method: string, url: string, o: { key?: string; admin?: boolean; body?: unknown; type?: string; requestValid?: boolean } = {}): Promise<Exchange> => {
    const r = await api(gw.url, url, {
      method: method.toUpperCase(),
      key: o.key,
      headers: o.admin ? { authorization: `Bearer ${TOKEN}` } : {},
      body: o.body,
      contentType: o.type ?? JSONAPI,
    });
    return { what, path: docPath, method, type: o.type ?? JSONAPI, request: o.body, requestValid: o.requestValid, res: { status: r.status, headers: r.headers, json: r.body, text: JSON.stringify(r.body) } };
  };

  it('every answer of the read and management APIs matches it, errors included', async () => {
    const V2 = '/hammy/json/send/v2';
    const sent = await postJson(gw.url, { clientHashKey: DEMO_KEY, ...direct, batchId: 'OA-1' }, { 'X-Origin': 'oa', 'X-Issuer': 'tester' });
    const id = sent.json.messageId;
    const k = { key: DEMO_KEY };
    const newVersion = { data: { type: 'templates', attributes: { messageType: 'OA.T', subject: 'Tárgy {{recipientName}}', textBody: 'Szia {{recipientName}}!' } } };
    const broken = { data: { type: 'templates', attributes: { messageType: 'OA.T', subject: 's', textBody: '{{#if x}}' } } };
    const client = { data: { type: 'clients', attributes: { name: 'OA', defaultFromAddress: 'oa@example.com', maxAttachments: 2 } } };
    const exchanges: Exchange[] = [
      await exchange('message', `${V2}/messages/{messageId}`, 'get', `${V2}/messages/${id}`, k),
      await exchange('message 404', `${V2}/messages/{messageId}`, 'get', `${V2}/messages/99999999`, k),
      await exchange('message 401', `${V2}/messages/{messageId}`, 'get', `${V2}/messages/${id}`, { key: 'nobody' }),
      await exchange('history', `${V2}/messages`, 'get', `${V2}/messages?batchId=OA-1&page[size]=1`, k),
      await exchange('history 400', `${V2}/messages`, 'get', `${V2}/messages?page[size]=0&status=LOST`, k),
      await exchange('batch', `${V2}/batches/{batchId}`, 'get', `${V2}/batches/OA-1`, k),
      await exchange('batch 404', `${V2}/batches/{batchId}`, 'get', `${V2}/batches/none`, k),
      await exchange('templates', `${V2}/templates`, 'get', `${V2}/templates`, k),
      await exchange('new version', `${V2}/templates`, 'post', `${V2}/templates`, { ...k, body: newVersion }),
      await exchange('new version, plain JSON', `${V2}/templates`, 'post', `${V2}/templates`, { ...k, body: newVersion.data.attributes, type: 'application/json' }),
      await exchange('broken version', `${V2}/templates`, 'post', `${V2}/templates`, { ...k, body: broken }),
      await exchange('version', `${V2}/templates/{messageType}/versions/{version}`, 'get', `${V2}/templates/OA.T/versions/1`, k),
      await exchange('deactivate', `${V2}/templates/{messageType}/versions/{version}`, 'patch', `${V2}/templates/OA.T/versions/2`, { ...k, body: { data: { type: 'templates', attributes: { active: false } } } }),
      await exchange('preview', `${V2}/templates/{messageType}/versions/{version}/preview`, 'post', `${V2}/templates/OA.T/versions/2/preview`, { ...k, body: { recipientName: 'Anna' }, type: 'application/json' }),
      await exchange('preview newest', `${V2}/templates/{messageType}/preview`, 'post', `${V2}/templates/TEST.MAIL/preview`, {
        ...k,
        body: { data: { type: 'templatePreviews', attributes: { recipientName: 'Anna', xmlData: '<DATA><contractNumber>1</contractNumber><clientID>2</clientID></DATA>' } } },
      }),
      await exchange('preview 400', `${V2}/templates/{messageType}/preview`, 'post', `${V2}/templates/TEST.MAIL/preview`, { ...k, body: { recipientName: 'Anna' }, type: 'application/json' }),
      await exchange('create client', '/hammy/admin/v1/clients', 'post', '/hammy/admin/v1/clients', { admin: true, body: client }),
      await exchange('clients', '/hammy/admin/v1/clients', 'get', '/hammy/admin/v1/clients', { admin: true }),
      await exchange('admin 401', '/hammy/admin/v1/clients', 'get', '/hammy/admin/v1/clients'),
      await exchange('client', '/hammy/admin/v1/clients/{id}', 'get', '/hammy/admin/v1/clients/1', { admin: true }),
      await exchange('disable client', '/hammy/admin/v1/clients/{id}', 'patch', '/hammy/admin/v1/clients/2', { admin: true, body: { enabled: false }, type: 'application/json' }),
      await exchange('rotate key', '/hammy/admin/v1/clients/{id}/key', 'post', '/hammy/admin/v1/clients/2/key', { admin: true }),
      await exchange('client 404', '/hammy/admin/v1/clients/{id}', 'get', '/hammy/admin/v1/clients/999', { admin: true }),
    ];
    assert.deepEqual(
      exchanges.map((x) => x.res.status),
      [200, 404, 401, 200, 400, 200, 404, 200, 201, 201, 400, 200, 200, 200, 200, 400, 201, 200, 401, 200, 200, 200, 404],
      exchanges.map((x) => `${x.what}: ${x.res.status} ${x.res.text}`).join('\n'),
    );
    for (const x of exchanges) checkExchange(x);
    const unsupported = await exchange('template 415', `${V2}/templates`, 'post', `${V2}/templates`, { ...k, body: 'x', type: 'text/plain' });
    assert.equal(unsupported.res.status, 415);
    const resp415 = at(`${at(`/paths/${esc(`${V2}/templates`)}/post`).pointer}/responses/415`);
    assert.equal(unsupported.res.headers.get('content-type'), 'application/problem+json');
    assert.equal(validate(`${resp415.pointer}/content/${esc('application/problem+json')}/schema`, unsupported.res.json), undefined);
    // Errors of these APIs are RFC 9457 problems, and the document refuses a JSON:API error document there.
    const notFound = at(`${at(`/paths/${esc(`${V2}/messages/{messageId}`)}/get`).pointer}/responses/404`).pointer;
    assert.ok(validate(`${notFound}/content/${esc('application/problem+json')}/schema`, { errors: [{ status: '404', code: '6', title: 'message 1 not found' }] }));
    // The document is strict enough to refuse an answer of another shape.
    const message = at(`${at(`/paths/${esc(`${V2}/messages/{messageId}`)}/get`).pointer}/responses/200`).pointer;
    assert.ok(validate(`${message}/content/${esc(JSONAPI)}/schema`, { data: { type: 'messages', id: '1', attributes: { status: 'LOST' } } }));
  });
});
