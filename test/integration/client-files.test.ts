// Per-client file folders (issue 15 point 4): a client reads FS sources and writes FS archives only under its own
// folder of SOURCE_DIR and ARCHIVE_DIR, over every wire; the folder is a validated, unique admin setting.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { api, problemMessages } from '../helpers/api.js';
import { AMQP_URL, Producer, queueConsumed } from '../helpers/amqp.js';
import { eventually, fixtureBytes, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/rest.js';
import { envelope, postSoap } from '../helpers/soap.js';

const TOKEN = 'test-admin-token-files-7c2e';
const CLIENTS = '/hammy/admin/v1/clients';
const admin = { authorization: `Bearer ${TOKEN}` };
const doc = (attributes: Record<string, unknown>) => ({ data: { type: 'clients', attributes } });
const prop = (key: string, value: string) => ({ key, value, isMetaData: 'false' });
const fsSource = (p: string, del = true) => ({ fileName: 'kivonat.pdf', deleteSourceExpected: del, properties: [prop('ATTACHMENT_SOURCE', 'FS'), prop('RELATIVE_FILE_PATH', p)] });
const mail = (to: string, attachments: unknown[]) => ({ recipientName: 'B', recipientEmailAddress: to, mailSubject: 'Kivonat', mailBody: 'csatolva', attachments });

describe('per-client file folders (SOURCE_DIR and ARCHIVE_DIR)', function () {
  this.timeout(60000);
  let gw: TestGateway;
  let producer: Producer;
  let queue: string;
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  const sourceOf = (folder: string, ...p: string[]) => path.join(gw.config.sourceDir, folder, ...p);
  const messageCount = async () => Number((await gw.db.knex('messages').count('* as n'))[0]!.n);
  const mailsTo = (to: string) => gw.smtp.received.filter((m) => (m.mail.to as any)?.value?.[0]?.address === to).length;

  before(async () => {
    queue = `test.files.${randomBytes(4).toString('hex')}`;
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, AMQP_URL, AMQP_QUEUE: queue, AMQP_REPLY_EXCHANGE: `${queue}.reply` });
    const made = async (attrs: Record<string, unknown>) => {
      const r = await api(gw.url, CLIENTS, { headers: admin, body: doc({ defaultFromAddress: 'f@example.com', ...attrs }) });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return { id: r.body.data.id as string, key: r.body.data.attributes.hashKey as string, folder: r.body.data.attributes.filesFolder as string };
    };
    const ma = await made({ name: 'A', filesFolder: 'alpha' });
    const mb = await made({ name: 'B' });
    assert.equal(ma.folder, 'alpha');
    assert.equal(mb.folder, `client-${mb.id}`, 'the default folder is derived from the id');
    a = ma;
    b = mb;
    fs.mkdirSync(sourceOf('alpha'), { recursive: true });
    fs.copyFileSync(path.join(gw.config.sourceDir, 'demo', 'test.pdf'), sourceOf('alpha', 'a.pdf'));
    producer = await Producer.open();
    await queueConsumed(gw.url);
  });
  after(async () => {
    await producer?.removeAndClose(queue);
    await gw?.stop();
  });

  it("client B cannot mail itself client A's source file, nor delete it: code 5 on REST, SOAP and AMQP", async () => {
    const before = await messageCount();
    // By A's folder name, and by climbing out of B's own folder: neither is under B's root.
    for (const p of ['alpha/a.pdf', '../alpha/a.pdf']) {
      const rest = await postJson(gw.url, mail('b@example.com', [fsSource(p)]), { 'X-Client-Hash-Key': b.key });
      assert.equal(rest.json.meta.responseStatus.code, 5, `REST ${p}: ${rest.text}`);
      assert.equal(rest.json.meta.responseStatus.messages[0].field, 'attachments[0].properties.RELATIVE_FILE_PATH');
      assert.doesNotMatch(rest.text, new RegExp(gw.config.sourceDir.replace(/[/.]/g, '\\$&')), 'no file-system path in the answer');

      const soap = await postSoap(gw.url, envelope('sendMail', { clientHashKey: b.key, recipientName: 'B', recipientEmailAddress: 'b@example.com', mailSubject: 'K', mailBody: 'x' }, {
        attachments: `<attachment><fileName>k.pdf</fileName><deleteSourceExpected>true</deleteSourceExpected><properties><property><key>ATTACHMENT_SOURCE</key><value>FS</value></property><property><key>RELATIVE_FILE_PATH</key><value>${p}</value></property></properties></attachment>`,
      }));
      assert.equal(soap.code, 5, `SOAP ${p}: ${soap.raw}`);

      const amqp = await producer.request(queue, JSON.stringify(mail('b@example.com', [fsSource(p)])), { headers: { 'X-Client-Hash-Key': b.key } });
      assert.equal(amqp.json.meta.responseStatus.code, 5, `AMQP ${p}: ${amqp.body}`);
    }
    assert.ok(fs.existsSync(sourceOf('alpha', 'a.pdf')), "A's file is not deleted");
    assert.equal(await messageCount(), before, 'nothing stored');
    assert.equal(mailsTo('b@example.com'), 0, 'nothing sent');
  });

  it('client A reads its own file by a path relative to its folder, and deleteSourceExpected removes it there', async () => {
    fs.copyFileSync(sourceOf('alpha', 'a.pdf'), sourceOf('alpha', 'own.pdf'));
    const r = await postJson(gw.url, mail('a@example.com', [fsSource('/own.pdf')]), { 'X-Client-Hash-Key': a.key });
    assert.equal(r.json.meta.responseStatus.code, 0, r.text);
    await waitForStatus(gw, r.json.messageId, 'SENT');
    assert.ok(!fs.existsSync(sourceOf('alpha', 'own.pdf')));
    const stored = await gw.db.knex('attachments').where({ message_id: r.json.messageId }).first();
    assert.ok(Buffer.from(stored.content).equals(fixtureBytes('files', 'test.pdf')));
  });

  it("ARCHIVE_TARGET FS lands in the client's own folder of ARCHIVE_DIR; climbing out of it is code 5", async () => {
    const archived = (p: string) => ({ fileName: 'masolat.pdf', content: fixtureBytes('files', 'minta.pdf').toString('base64'), archivingExpected: true, properties: [prop('ARCHIVE_TARGET', 'FS'), prop('ARCHIVE_RELATIVE_PATH', p)] });
    const r = await postJson(gw.url, mail('arch@example.com', [archived('/szerzodes/')]), { 'X-Client-Hash-Key': b.key });
    assert.equal(r.json.meta.responseStatus.code, 0, r.text);
    await waitForStatus(gw, r.json.messageId, 'SENT');
    const file = path.join(gw.config.archiveDir, `client-${b.id}`, 'szerzodes', `${r.json.messageId}_masolat.pdf`);
    assert.ok(fs.readFileSync(file).equals(fixtureBytes('files', 'minta.pdf')));
    assert.ok(!fs.existsSync(path.join(gw.config.archiveDir, 'szerzodes')), 'not in the shared root');
    const entry = await gw.db.knex('archive_entries').where({ message_id: r.json.messageId }).first();
    assert.equal(entry.location, path.join(`client-${b.id}`, 'szerzodes', `${r.json.messageId}_masolat.pdf`));

    const before = await messageCount();
    for (const p of ['../alpha/', '../', `/../client-${b.id}x/`]) {
      const out = await postJson(gw.url, mail('arch@example.com', [archived(p)]), { 'X-Client-Hash-Key': b.key });
      assert.equal(out.json.meta.responseStatus.code, 5, `${p}: ${out.text}`);
      assert.equal(out.json.meta.responseStatus.messages[0].field, 'attachments[0].properties.ARCHIVE_RELATIVE_PATH');
    }
    assert.equal(await messageCount(), before);
    assert.ok(!fs.existsSync(path.join(gw.config.archiveDir, 'alpha')), "nothing written into A's folder");
  });

  describe('the filesFolder setting (admin API)', () => {
    const patch = (id: string, attrs: Record<string, unknown>) => api(gw.url, `${CLIENTS}/${id}`, { headers: admin, method: 'PATCH', body: doc(attrs) });
    const fieldsOf = (r: { body: any }) => problemMessages(r.body).map((m: any) => m.field);

    it('refuses anything but one safe path segment, naming filesFolder', async () => {
      for (const bad of ['', '.', '..', 'a/b', '../x', 'a\\b', 'x'.repeat(65), 'ügyfél', 'a b', 7]) {
        const r = await patch(b.id, { filesFolder: bad });
        assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.code, 1);
        assert.deepEqual(fieldsOf(r), ['filesFolder']);
      }
    });

    it("a folder already taken, or another client's default, is refused; its own default is accepted", async () => {
      const taken = await patch(b.id, { filesFolder: 'alpha' });
      assert.equal(taken.status, 400);
      assert.deepEqual(fieldsOf(taken), ['filesFolder']);
      assert.match(problemMessages(taken.body)[0].text, /already another client's folder/);
      const demoTaken = await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'C', defaultFromAddress: 'c@example.com', filesFolder: 'demo' }) });
      assert.equal(demoTaken.status, 400, 'on create too');
      assert.deepEqual(fieldsOf(demoTaken), ['filesFolder']);
      const others = await patch(a.id, { filesFolder: `client-${b.id}` });
      assert.equal(others.status, 400);
      assert.match(problemMessages(others.body)[0].text, /reserved/);
      const unborn = await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'D', defaultFromAddress: 'd@example.com', filesFolder: 'client-999' }) });
      assert.equal(unborn.status, 400, 'a future client default is reserved too');
      const own = await patch(b.id, { filesFolder: `client-${b.id}` });
      assert.equal(own.status, 200);
      assert.equal(own.body.data.attributes.filesFolder, `client-${b.id}`);
      assert.deepEqual((await gw.db.knex('clients').where({ name: 'C' })).length, 0, 'nothing created');
    });

    it('PATCH moves the client to its new folder at once; GET shows it; null is the default again', async () => {
      const moved = await patch(b.id, { filesFolder: 'beta' });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      assert.equal((await api(gw.url, `${CLIENTS}/${b.id}`, { headers: admin })).body.data.attributes.filesFolder, 'beta');
      fs.mkdirSync(sourceOf('beta'), { recursive: true });
      fs.copyFileSync(sourceOf('alpha', 'a.pdf'), sourceOf('beta', 'b.pdf'));
      const r = await postJson(gw.url, mail('b2@example.com', [fsSource('b.pdf', false)]), { 'X-Client-Hash-Key': b.key });
      assert.equal(r.json.meta.responseStatus.code, 0, r.text);
      const back = await patch(b.id, { filesFolder: null });
      assert.equal(back.body.data.attributes.filesFolder, `client-${b.id}`);
      const gone = await postJson(gw.url, mail('b2@example.com', [fsSource('b.pdf', false)]), { 'X-Client-Hash-Key': b.key });
      assert.equal(gone.json.meta.responseStatus.code, 5);
    });
  });
});
