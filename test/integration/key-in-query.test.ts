// Credentials never in URLs (issue 15 point 7): the client key in a query string is refused unless
// ALLOW_KEY_IN_QUERY=true; the admin token never is accepted there.
import assert from 'node:assert/strict';
import { api } from '../helpers/api.js';
import { DEMO_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postJson, postJsonApi, SEND } from '../helpers/rest.js';

const TOKEN = 'test-admin-token-query-9';
const direct = { recipientName: 'Kulcs Kató', recipientEmailAddress: 'kulcs@example.com', mailSubject: 'Helló', mailBody: 'levél' };

describe('client key in the query string', function () {
  this.timeout(60000);
  let gw: TestGateway;
  let allowing: TestGateway | undefined;
  before(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
  });
  after(async () => {
    await gw?.stop();
    await allowing?.stop();
  });
  const stored = async (g: TestGateway) => Number((await g.db.knex('messages').count('* as n').first())!.n);

  it('by default a send with ?clientHashKey= is 400, code 1, naming the parameter and the header to use; nothing is stored', async () => {
    const before = await stored(gw);
    const r = await postJson(gw.url, direct, {}, `${SEND}?clientHashKey=${DEMO_KEY}`);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.meta.responseStatus.code, 1);
    // The send API answers in the caller's form (plain JSON here); JSON:API names the parameter as its source.
    assert.equal(r.json.meta.responseStatus.messages[0].field, 'clientHashKey');
    assert.match(r.json.meta.responseStatus.messages[0].text, /X-Client-Hash-Key header/);
    const jsonApi = await postJsonApi(gw.url, { data: { type: 'sendRequest', attributes: direct } }, {}, `${SEND}?clientHashKey=${DEMO_KEY}`);
    assert.equal(jsonApi.status, 400, jsonApi.text);
    assert.deepEqual(jsonApi.json.errors[0].source, { parameter: 'clientHashKey' });
    assert.equal(await stored(gw), before);
    // Even beside the header: the key has been written into a URL all the same.
    const both = await postJson(gw.url, direct, { 'X-Client-Hash-Key': DEMO_KEY }, `${SEND}?clientHashKey=${DEMO_KEY}`);
    assert.equal(both.status, 400);
    const header = await postJson(gw.url, direct, { 'X-Client-Hash-Key': DEMO_KEY });
    assert.equal(header.status, 200, header.text);
  });

  it('the status and template APIs refuse it too', async () => {
    for (const p of ['/hammy/json/send/v2/messages/1', '/hammy/json/send/v2/messages', '/hammy/json/send/v2/templates']) {
      const r = await api(gw.url, `${p}?clientHashKey=${DEMO_KEY}`);
      assert.equal(r.status, 400, p);
      assert.equal(r.body.issues[0].source.parameter, 'clientHashKey', p);
    }
  });

  it('the admin token is never taken from the query, under any usual name', async () => {
    for (const name of ['access_token', 'token', 'adminToken', 'ADMIN_TOKEN', 'authorization']) {
      const r = await api(gw.url, `/hammy/admin/v1/clients?${name}=${TOKEN}`);
      assert.equal(r.status, 401, name);
      assert.equal(r.body.code, 2, name);
    }
    assert.equal((await api(gw.url, '/hammy/admin/v1/clients', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  });

  it('ALLOW_KEY_IN_QUERY=true keeps the old behaviour: the key in the query is accepted', async () => {
    allowing = await startTestGateway({ ALLOW_KEY_IN_QUERY: 'true' });
    const r = await postJson(allowing.url, direct, {}, `${SEND}?clientHashKey=${DEMO_KEY}`);
    assert.equal(r.status, 200, r.text);
    assert.equal((await api(allowing.url, `/hammy/json/send/v2/messages/${r.json.messageId}?clientHashKey=${DEMO_KEY}`)).status, 200);
  });
});
