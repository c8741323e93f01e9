// One error shape for every HTTP API but send (issue 17): RFC 9457 application/problem+json with the SPEC §7 code
// and each issue's source, for a 404 and a 400 (or the API's own refusals) of every read and management API.
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { api, type ApiResult } from '../helpers/api.js';
import { DEMO_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/rest.js';

const TOKEN = 'test-admin-token-problem-1';
const V2 = '/hammy/json/send/v2';
const CLIENTS = '/hammy/admin/v1/clients';

/** The answer is a problem with exactly RFC 9457's members and our two extensions; returns its issues. */
function problem(r: ApiResult, status: number, code: number) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.deepEqual(Object.keys(r.body).sort(), ['code', 'detail', 'issues', 'status', 'title', 'type']);
  assert.deepEqual([r.body.type, r.body.title, r.body.status, r.body.code], ['about:blank', STATUS_CODES[status], status, code]);
  assert.equal(typeof r.body.detail, 'string');
  assert.ok(r.body.detail.length > 0);
  return r.body.issues as { code: number; text: string; source?: Record<string, string> }[];
}

describe('problem+json on every API but send', function () {
  this.timeout(60000);
  let gw: TestGateway;
  const k = { key: DEMO_KEY };
  const admin = { headers: { authorization: `Bearer ${TOKEN}` } };
  before(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
    await postJson(gw.url, { recipientName: 'P', recipientEmailAddress: 'p@example.com', mailSubject: 's', mailBody: 'b', batchId: 'P-1' }, { 'X-Client-Hash-Key': DEMO_KEY });
  });
  after(() => gw?.stop());

  it('status: an unknown message is 404 code 6; no key is 400 naming clientHashKey', async () => {
    assert.deepEqual(problem(await api(gw.url, `${V2}/messages/987654`, k), 404, 6), [{ code: 6, text: 'message 987654 not found', source: { field: 'messageId' } }]);
    assert.deepEqual(problem(await api(gw.url, `${V2}/messages/1`), 400, 1)[0]!.source, { field: 'clientHashKey' });
  });

  it('history: bad parameters are 400 with each parameter as its source; the key in the query too', async () => {
    const issues = problem(await api(gw.url, `${V2}/messages?page[size]=0&status=LOST`, k), 400, 1);
    assert.deepEqual(issues.map((i) => i.source), [{ parameter: 'status' }, { parameter: 'page[size]' }]);
    assert.deepEqual(problem(await api(gw.url, `${V2}/messages?clientHashKey=${DEMO_KEY}`), 400, 1)[0]!.source, { parameter: 'clientHashKey' });
  });

  it('batches: an unknown batch is 404; a bad page size 400', async () => {
    assert.deepEqual(problem(await api(gw.url, `${V2}/batches/none`, k), 404, 6)[0]!.source, { field: 'batchId' });
    assert.deepEqual(problem(await api(gw.url, `${V2}/batches/P-1?page[size]=9999`, k), 400, 1)[0]!.source, { parameter: 'page[size]' });
  });

  it('documents: unknown content is 404; a bad limit 400', async () => {
    problem(await api(gw.url, `${V2}/documents/999999/content`, k), 404, 6);
    assert.deepEqual(problem(await api(gw.url, `${V2}/documents?limit=0`, k), 400, 1)[0]!.source, { field: 'limit' });
  });

  it('templates: an unknown version is 404, an unknown messageType to preview 404 code 3, a broken template 400 code 3 naming its part', async () => {
    problem(await api(gw.url, `${V2}/templates/NOPE/versions/1`, k), 404, 6);
    problem(await api(gw.url, `${V2}/templates/NOPE/preview`, { ...k, body: { recipientName: 'A' }, contentType: 'application/json' }), 404, 3);
    const broken = { data: { type: 'templates', attributes: { messageType: 'P.BROKEN', subject: 's', textBody: '{{#if x}}' } } };
    const issues = problem(await api(gw.url, `${V2}/templates`, { ...k, body: broken }), 400, 3);
    assert.deepEqual(issues.map((i) => i.source), [{ field: 'textBody' }]);
    const unsupported = await api(gw.url, `${V2}/templates`, { ...k, body: 'x', contentType: 'text/plain' });
    assert.deepEqual(problem(unsupported, 415, 1)[0]!.source, { header: 'Content-Type' });
  });

  it('admin: an unknown client is 404, a bad setting 400 naming it, no token 401 naming the header', async () => {
    problem(await api(gw.url, `${CLIENTS}/999999`, admin), 404, 6);
    const bad = await api(gw.url, CLIENTS, { ...admin, body: { data: { type: 'clients', attributes: { name: 'X', defaultFromAddress: 'not an address' } } } });
    assert.deepEqual(problem(bad, 400, 1).map((i) => i.source), [{ field: 'defaultFromAddress' }]);
    const none = await api(gw.url, CLIENTS);
    assert.deepEqual(problem(none, 401, 2)[0]!.source, { header: 'Authorization' });
    assert.match(none.headers.get('www-authenticate')!, /^Bearer/);
  });

  it('portal keys: an unknown client or key is 404 naming it, no token 401', async () => {
    problem(await api(gw.url, `${CLIENTS}/999999/portal-keys`, admin), 404, 6);
    assert.deepEqual(problem(await api(gw.url, `${CLIENTS}/1/portal-keys/abc`, { ...admin, method: 'DELETE' }), 404, 6)[0]!.source, { field: 'keyId' });
    problem(await api(gw.url, `${CLIENTS}/1/portal-keys`), 401, 2);
  });

  it('portal: no key is 401 naming the header, a miss 404, another method 405', async () => {
    const none = await api(gw.url, `/portal/v1/messages/${'a'.repeat(64)}`);
    assert.deepEqual(problem(none, 401, 2)[0]!.source, { header: 'X-Portal-Key' });
    assert.match(none.headers.get('www-authenticate')!, /^ApiKey/);
    const made = await api(gw.url, `${CLIENTS}/1/portal-keys`, { ...admin, method: 'POST' });
    const key = { headers: { 'X-Portal-Key': made.body.data.attributes.key, 'X-Recipient-Id': 'R' } };
    problem(await api(gw.url, `/portal/v1/messages/${'a'.repeat(64)}`, key), 404, 6);
    problem(await api(gw.url, `/portal/v1/messages/${'a'.repeat(64)}`, { ...key, method: 'DELETE' }), 405, 1);
  });

  it('metrics, health and any unknown path: 404 and 405 are problems too', async () => {
    problem(await api(gw.url, '/metrics/nothing'), 404, 6);
    problem(await api(gw.url, '/health/nothing'), 404, 6);
    problem(await api(gw.url, '/hammy/soap/send/v2'), 404, 6);
    const post = await api(gw.url, '/metrics', { method: 'POST', body: {} });
    problem(post, 405, 1);
    assert.equal(post.headers.get('allow'), 'HEAD, GET');
  });

  it('the send API keeps its JSON:API errors', async () => {
    const r = await api(gw.url, `${V2}/send`, { body: { data: { type: 'sendRequest', attributes: {} } } });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('content-type'), 'application/vnd.api+json');
    assert.ok(Array.isArray(r.body.errors) && r.body.errors.length > 0);
  });
});
