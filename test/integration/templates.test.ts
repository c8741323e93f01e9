// Template management API: list, read, add a version (compiled first), switch versions, preview as a send renders; per client.
import { keyHash } from '../../src/core/secrets.js';
import assert from 'node:assert/strict';
import { api, problemMessages } from '../helpers/api.js';
import { DEMO_KEY, fixture, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

const T = '/hammy/json/send/v2/templates';
const OTHER = 'other-client-key-0002';
const XML_DATA = '<DATA><contractNumber>10000001</contractNumber><clientID>9000001</clientID></DATA>';
const doc = (attributes: Record<string, unknown>, type = 'templates') => ({ data: { type, attributes } });

describe('template management API', function () {
  this.timeout(60000);
  let gw: TestGateway;
  const sendTestMail = async (o: Record<string, string> = {}) => {
    const r = await postSoap(
      gw.url,
      envelope('sendMail', { clientHashKey: DEMO_KEY, messageType: 'TEST.MAIL', recipientName: 'Vevő Vilma', recipientEmailAddress: 'vilma@example.com', ...o }, { xmlData: XML_DATA }),
    );
    assert.equal(r.code, 0, r.raw);
    return r.messageId!;
  };

  before(async () => {
    gw = await startTestGateway();
    await gw.db.knex('clients').insert({ key_hash: keyHash(OTHER), name: 'Other', default_from_address: 'other@example.com' });
  });
  after(async () => gw?.stop());

  it("lists the client's versions without their sources; another client sees none of them", async () => {
    const r = await api(gw.url, T, { key: DEMO_KEY });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data.map((t: any) => t.id), ['351.DI:1', 'TEST.MAIL:2', 'TEST.MAIL:1']);
    assert.deepEqual(Object.keys(r.body.data[1].attributes).sort(), ['active', 'createdAt', 'defaultChannel', 'messageType', 'updatedAt', 'version']);
    assert.deepEqual((await api(gw.url, `${T}?messageType=351.DI`, { key: DEMO_KEY })).body.data.length, 1);
    assert.deepEqual((await api(gw.url, T, { key: OTHER })).body.data, []);
  });

  it('reads one version with its sources; another client gets 404 for it', async () => {
    const r = await api(gw.url, `${T}/TEST.MAIL/versions/1`, { key: DEMO_KEY });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.attributes.subject, fixture('demo', 'templates', 'TEST.MAIL', '1', 'subject.hbs').trim());
    assert.equal(r.body.data.attributes.textBody, fixture('demo', 'templates', 'TEST.MAIL', '1', 'text.hbs'));
    const other = await api(gw.url, `${T}/TEST.MAIL/versions/1`, { key: OTHER });
    const none = await api(gw.url, `${T}/TEST.MAIL/versions/99`, { key: DEMO_KEY });
    assert.deepEqual([other.status, none.status, other.body.code], [404, 404, 6]);
    assert.equal((await api(gw.url, `${T}/TEST.MAIL/versions/x`, { key: DEMO_KEY })).status, 404);
  });

  it('a new version gets max+1; sends without a version use it, while old messages keep the version they were rendered with', async () => {
    const before = await sendTestMail();
    await waitForStatus(gw, before, 'SENT');
    const r = await api(gw.url, T, {
      key: DEMO_KEY,
      body: doc({ messageType: 'TEST.MAIL', subject: 'Harmadik: {{DATA.contractNumber}}', textBody: 'Kedves {{recipientName}}! ({{DATA.clientID}})', defaultChannel: 'EMAIL' }),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.data.attributes.version, 3);
    assert.equal(r.headers.get('location'), `${T}/TEST.MAIL/versions/3`);
    const after = await sendTestMail();
    await waitForStatus(gw, after, 'SENT');
    const status = async (id: number) => (await api(gw.url, `/hammy/json/send/v2/messages/${id}`, { key: DEMO_KEY })).body.data.attributes;
    assert.deepEqual([(await status(before)).messageTypeVersion, (await status(before)).subject], [2, 'Értesítés: 10000001 számú szerződés (ügyfél 9000001)']);
    assert.deepEqual([(await status(after)).messageTypeVersion, (await status(after)).subject], [3, 'Harmadik: 10000001']);
    const v2 = await gw.db.knex('templates').where({ message_type: 'TEST.MAIL', version: 2 }).first();
    assert.match(v2.subject, /^Értesítés/, 'the old version is unchanged');
  });

  it('a broken template is refused with the engine message and line, every broken part at once; nothing is stored', async () => {
    const count = async () => (await gw.db.knex('templates').count('* as n').first())!.n;
    const n = await count();
    const r = await api(gw.url, T, {
      key: DEMO_KEY,
      body: doc({ messageType: 'BROKEN', subject: 'ok {{a}}', textBody: 'line one\nline two {{#if DATA.x}}\nno end', htmlBody: '<p>{{oops}</p>' }),
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 3);
    const byField = Object.fromEntries(problemMessages(r.body).map((m: any) => [m.field, m.text]));
    assert.deepEqual(Object.keys(byField).sort(), ['htmlBody', 'textBody']);
    assert.match(byField.textBody, /does not compile: .*line \d+/s);
    assert.match(byField.htmlBody, /Parse error on line 1/);
    assert.deepEqual(r.body.issues[0].source, { field: 'textBody' });
    assert.equal(await count(), n);
  });

  it('missing and wrong fields are named (code 1)', async () => {
    const r = await api(gw.url, T, { key: DEMO_KEY, body: doc({ messageType: 'has space', defaultChannel: 'FAX', active: 'yes' }) });
    assert.equal(r.status, 400);
    assert.deepEqual(problemMessages(r.body).map((m: any) => m.field).sort(), ['active', 'defaultChannel', 'messageType', 'subject', 'textBody']);
    const wrongType = await api(gw.url, T, { key: DEMO_KEY, body: doc({ messageType: 'X', subject: 's', textBody: 't' }, 'clients') });
    assert.deepEqual(wrongType.body.issues[0].source, { field: '/data/type' });
    const text = await api(gw.url, T, { key: DEMO_KEY, body: 'subject=x', contentType: 'text/plain' });
    assert.equal(text.status, 415);
  });

  it('plain JSON works too; versions count per client, so another client starts its own TEST.MAIL at 1', async () => {
    const r = await api(gw.url, T, { key: OTHER, contentType: 'application/json', body: { messageType: 'TEST.MAIL', subject: 'Másik', htmlBody: '<p>{{recipientName}}</p>' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.data.attributes.version, 1);
  });

  it('concurrent creates get distinct versions', async () => {
    const rs = await Promise.all(
      [1, 2, 3, 4].map((i) => api(gw.url, T, { key: DEMO_KEY, body: doc({ messageType: 'RACE', subject: `v${i}`, textBody: 'x' }) })),
    );
    assert.deepEqual(rs.map((r) => r.status), [201, 201, 201, 201]);
    assert.deepEqual(rs.map((r) => r.body.data.attributes.version).sort(), [1, 2, 3, 4]);
  });

  it('deactivating a version makes sends without a version use the newest active one; naming it still works', async () => {
    const off = await api(gw.url, `${T}/TEST.MAIL/versions/3`, { key: DEMO_KEY, method: 'PATCH', body: doc({ active: false }) });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.data.attributes.active, false);
    const plain = await sendTestMail();
    const named = await sendTestMail({ messageTypeVersion: '3' });
    const row = async (id: number) => gw.db.knex('messages').where({ id }).first('message_type_version', 'subject');
    assert.equal((await row(plain)).message_type_version, 2);
    assert.equal((await row(named)).message_type_version, 3);
    const on = await api(gw.url, `${T}/TEST.MAIL/versions/3`, { key: DEMO_KEY, method: 'PATCH', body: doc({ active: true }) });
    assert.equal(on.body.data.attributes.active, true);
  });

  it('a stored version cannot be edited, and another client cannot switch it', async () => {
    const edit = await api(gw.url, `${T}/TEST.MAIL/versions/1`, { key: DEMO_KEY, method: 'PATCH', body: doc({ subject: 'changed', active: true }) });
    assert.equal(edit.status, 400);
    assert.match(edit.body.issues[0].text, /immutable/);
    const other = await api(gw.url, `${T}/TEST.MAIL/versions/2`, { key: OTHER, method: 'PATCH', body: doc({ active: false }) });
    assert.equal(other.status, 404);
    assert.equal((await gw.db.knex('templates').where({ message_type: 'TEST.MAIL', version: 2, client_id: 1 }).first()).active, true);
  });

  describe('preview', () => {
    it('renders exactly what a real send delivered (sample 2, TEST.MAIL v1), storing nothing', async () => {
      const r = await postSoap(gw.url, fixture('soap', 'sample2.xml'));
      assert.equal(r.code, 0, r.raw);
      await waitForStatus(gw, r.messageId!, 'SENT');
      const delivered = gw.smtp.received.find((m) => m.mail.headers.get('x-hammy-message-id') === String(r.messageId))!;
      const messages = async () => (await gw.db.knex('messages').count('* as n').first())!.n;
      const n = await messages();
      const p = await api(gw.url, `${T}/TEST.MAIL/versions/1/preview`, {
        key: DEMO_KEY,
        body: doc({ recipientName: 'NAME', recipientEmailAddress: 'emailaddress@dbx.hu', partnerRef: 'partner1234', requestId: '123', xmlData: XML_DATA }, 'templatePreviews'),
      });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      const a = p.body.data.attributes;
      assert.equal(a.version, 1);
      assert.equal(a.subject, delivered.mail.subject);
      assert.equal(a.textBody.trim(), delivered.mail.text!.trim());
      assert.equal(a.htmlBody, delivered.mail.html);
      assert.equal(await messages(), n, 'a preview stores nothing');
    });

    it('escapes HTML as a send does, and without a version uses the newest active one', async () => {
      const p = await api(gw.url, `${T}/TEST.MAIL/preview`, { key: DEMO_KEY, contentType: 'application/json', body: { recipientName: '<b>Bob</b> & Co', xmlData: XML_DATA } });
      assert.equal(p.body.data.attributes.version, 3);
      assert.equal(p.body.data.attributes.textBody, 'Kedves <b>Bob</b> & Co! (9000001)');
      const v1 = await api(gw.url, `${T}/TEST.MAIL/versions/1/preview`, { key: DEMO_KEY, contentType: 'application/json', body: { recipientName: '<b>Bob</b>', xmlData: XML_DATA } });
      assert.match(v1.body.data.attributes.htmlBody, /Kedves &lt;b&gt;Bob&lt;\/b&gt;!/);
    });

    it('a variable the data lacks is code 3 naming it; bad xmlData is code 1', async () => {
      const p = await api(gw.url, `${T}/TEST.MAIL/versions/1/preview`, { key: DEMO_KEY, contentType: 'application/json', body: { recipientName: 'X', xmlData: '<DATA><clientID>1</clientID></DATA>' } });
      assert.equal(p.status, 400);
      assert.equal(p.body.code, 3);
      assert.match(p.body.issues[0].text, /DATA\.contractNumber/);
      const bad = await api(gw.url, `${T}/TEST.MAIL/versions/1/preview`, { key: DEMO_KEY, contentType: 'application/json', body: { recipientName: 'X', xmlData: '<DATA>' } });
      assert.deepEqual([bad.status, problemMessages(bad.body)[0].field], [400, 'xmlData']);
    });

    it("another client cannot preview this client's template (404, as an unknown messageType)", async () => {
      const p = await api(gw.url, `${T}/351.DI/versions/1/preview`, { key: OTHER, contentType: 'application/json', body: { recipientName: 'X' } });
      assert.deepEqual([p.status, p.body.code], [404, 3]);
    });
  });
});
