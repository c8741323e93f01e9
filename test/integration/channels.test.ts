// Channels POST, PORTAL and ARCHIVE, archiving to DMS and FS, certification and file-system sources (SPEC §4, §5).
import { keyHash } from '../../src/core/secrets.js';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_KEY, fixture, fixtureBytes, startTestGateway, tempDir, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';
import { pdfPages, pdfSig, pdfText } from '../helpers/tools.js';
import { generateKey, keyHash } from '../../src/core/secrets.js';

const b64 = (name: string) => fixtureBytes('files', name).toString('base64');
const prop = (key: string, value: string, meta = false) => `<property><key>${key}</key><value>${value}</value><isMetaData>${meta}</isMetaData></property>`;
const attachment = (fileName: string, o: { content?: string; props?: string; extra?: string } = {}) =>
  `<attachment><fileName>${fileName}</fileName>${o.content !== undefined ? `<content>${o.content}</content>` : ''}${o.extra ?? ''}${o.props ? `<properties>${o.props}</properties>` : ''}</attachment>`;
const base = { clientHashKey: DEMO_KEY, recipientName: 'Kovács Őszike', mailSubject: 'Díjértesítő', mailBody: 'Tisztelt Ügyfelünk!\n\nÁrvíztűrő tükörfúrógép.' };

describe('channels, archiving, certification and sources', function () {
  this.timeout(60000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
    await gw.db.knex('clients').insert({ key_hash: keyHash('other-client-key'), name: 'Other', default_from_address: 'other@example.com' });
  });
  after(async () => gw?.stop());
  const cfg = () => gw.config;

  describe('POST', () => {
    it('writes a print-ready letter with the address, body and appended PDF, and its manifest line', async () => {
      const r = await postSoap(
        gw.url,
        envelope('sendMail', { ...base, channel: 'POST', recipientPostalAddress: 'Fő utca 1.;1011 Budapest', letterType: 'REGISTERED', batchId: 'B-2026/11', replyEnvelopeAttached: 'true', paymentSlipAttached: 'false' }, { attachments: attachment('test.pdf', { content: b64('test.pdf') }) }),
      );
      assert.equal(r.code, 0, r.raw);
      const events = await waitForStatus(gw, r.messageId!, 'SENT');
      const dir = path.join(cfg().printDir, 'client1-B-2026_11');
      const file = path.join(dir, `${r.messageId}.pdf`);
      const text = await pdfText(file);
      for (const s of ['Kovács Őszike', 'Fő utca 1.', '1011 Budapest', 'Díjértesítő', 'Árvíztűrő tükörfúrógép', 'Teszt dokumentum']) assert.ok(text.includes(s), `letter holds ${s}`);
      const pages = await pdfPages(file);
      const manifest = fs.readFileSync(path.join(dir, 'manifest.csv'), 'utf8').trim().split('\n');
      assert.equal(manifest[0], 'file;letterType;replyEnvelopeAttached;paymentSlipAttached;pageCount;recipientName;recipientPostalAddress;messageId;certified');
      const line = manifest.find((l) => l.startsWith(`${r.messageId}.pdf;`))!.split(';');
      assert.deepEqual(line.slice(0, 6), [`${r.messageId}.pdf`, 'REGISTERED', 'true', 'false', String(pages), 'Kovács Őszike']);
      assert.ok(pages >= 2, 'the letter page plus the appended attachment');
      assert.match(events.at(-1)!.reason, new RegExp(`${pages} pages`));
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no half files');
    });

    it('letters of one batch share a manifest with a line each; without batchId they go to the daily run', async () => {
      const send = (batchId?: string) =>
        postSoap(gw.url, envelope('sendMail', { ...base, channel: 'POST', recipientPostalAddress: 'Kossuth tér 2.\n1055 Budapest', letterType: 'NORMAL', batchId }));
      const rs = await Promise.all([send('B2'), send('B2'), send('B2'), send()]);
      for (const r of rs) await waitForStatus(gw, r.messageId!, 'SENT');
      const lines = fs.readFileSync(path.join(cfg().printDir, 'client1-B2', 'manifest.csv'), 'utf8').trim().split('\n');
      assert.equal(lines.length, 4);
      const daily = fs.readdirSync(cfg().printDir).find((d) => d.startsWith('client1-daily-'));
      assert.ok(daily && fs.existsSync(path.join(cfg().printDir, daily, `${rs[3]!.messageId}.pdf`)));
    });

    it('a non-PDF attachment on a POST message is code 5', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, channel: 'POST', recipientPostalAddress: 'X', letterType: 'NORMAL' }, { attachments: attachment('image.png', { content: b64('image.png') }) }));
      assert.equal(r.code, 5);
      assert.equal(r.messages[0]!.field, 'attachments[0].content');
    });

    it('certificationExpected signs the whole letter; pdfsig verifies it', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, channel: 'POST', recipientPostalAddress: 'Váci út 3.;1062 Budapest', letterType: 'OFFICIAL', certificationExpected: 'true', batchId: 'signed' }));
      await waitForStatus(gw, r.messageId!, 'SENT');
      const report = await pdfSig(path.join(cfg().printDir, 'client1-signed', `${r.messageId}.pdf`));
      assert.match(report, /Signature is Valid/);
    });
  });

  describe('certification of attachments', () => {
    it('a PDF attachment with certificationExpected arrives signed in the mail', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, recipientEmailAddress: 'cert@example.com' }, { attachments: attachment('minta.pdf', { content: b64('minta.pdf'), extra: '<certificationExpected>true</certificationExpected>' }) }));
      assert.equal(r.code, 0, r.raw);
      await waitForStatus(gw, r.messageId!, 'SENT');
      const mail = gw.smtp.received.find((m) => m.envelopeTo.includes('cert@example.com'))!;
      const file = path.join(tempDir(), 'signed.pdf');
      fs.writeFileSync(file, mail.mail.attachments[0]!.content);
      assert.match(await pdfSig(file), /Signature is Valid/);
      assert.ok((await pdfText(file)).includes('Minta dokumentum'));
    });

    it('a non-PDF attachment with certificationExpected is code 5', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, recipientEmailAddress: 'c@example.com' }, { attachments: attachment('image.png', { content: b64('image.png'), extra: '<certificationExpected>true</certificationExpected>' }) }));
      assert.equal(r.code, 5);
      assert.equal(r.messages[0]!.field, 'attachments[0].certificationExpected');
    });

    it('a message with certificationExpected carries its content as a signed PDF', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, recipientEmailAddress: 'certmsg@example.com', certificationExpected: 'true' }));
      await waitForStatus(gw, r.messageId!, 'SENT');
      const mail = gw.smtp.received.find((m) => m.envelopeTo.includes('certmsg@example.com'))!;
      const att = mail.mail.attachments.find((a) => a.filename === `message-${r.messageId}.pdf`)!;
      const file = path.join(tempDir(), 'msg.pdf');
      fs.writeFileSync(file, att.content);
      assert.match(await pdfSig(file), /Signature is Valid/);
      assert.ok((await pdfText(file)).includes('Árvíztűrő tükörfúrógép'));
    });
    it('an HTML-only message with certificationExpected carries the text of its HTML as a signed PDF, not an empty one', async () => {
      const html = '<h1>Díjértesítő</h1><p>Tisztelt <b>Ügyfelünk</b>!</p><p>Fizetendő: 12&nbsp;000 Ft</p><script>ignored()</script>';
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, mailBody: undefined, mailHtmlBody: html, recipientEmailAddress: 'certhtml@example.com', certificationExpected: 'true' }));
      assert.equal(r.code, 0, r.raw);
      await waitForStatus(gw, r.messageId!, 'SENT');
      const mail = gw.smtp.received.find((m) => m.envelopeTo.includes('certhtml@example.com'))!;
      const file = path.join(tempDir(), 'html-msg.pdf');
      fs.writeFileSync(file, mail.mail.attachments.find((a) => a.filename === `message-${r.messageId}.pdf`)!.content);
      assert.match(await pdfSig(file), /Signature is Valid/);
      const text = (await pdfText(file)).replace(/\s+/g, ' ');
      for (const s of ['Tisztelt Ügyfelünk!', 'Fizetendő: 12 000 Ft']) assert.ok(text.includes(s), `${s} in the signed PDF: ${text}`);
      assert.ok(!text.includes('<p>') && !text.includes('ignored()'), 'text, not markup');
    });
  });

  describe('PORTAL and the remote content API', () => {
    let id: number;
    let remoteId: string;
    let portalKey: string;
    before(async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, channel: 'PORTAL', partnerRef: 'RCP-1', recipientEmailAddress: 'portal@example.com' }, { attachments: attachment('minta.pdf', { content: b64('minta.pdf') }) }));
      assert.equal(r.code, 0, r.raw);
      id = r.messageId!;
      await waitForStatus(gw, id, 'SENT');
      const status = await (await fetch(`${gw.url}/hammy/json/send/v2/messages/${id}`, { headers: { 'X-Client-Hash-Key': DEMO_KEY } })).json();
      remoteId = status.data.attributes.remoteContentId;
      // This gateway has no ADMIN_TOKEN: the demo client's portal key goes in as the admin API would store it.
      portalKey = generateKey();
      const { client_id } = await gw.db.knex('messages').where({ id }).first('client_id');
      await gw.db.knex('portal_keys').insert({ client_id, key_hash: keyHash(portalKey) });
    });
    const get = (p: string, recipient?: string) => fetch(`${gw.url}${p}`, { headers: { 'X-Portal-Key': portalKey, ...(recipient ? { 'X-Recipient-Id': recipient } : {}) } });

    it('the notice e-mail says a message arrived, without its content', async () => {
      const mail = gw.smtp.received.find((m) => m.envelopeTo.includes('portal@example.com'))!;
      assert.equal(mail.mail.subject, 'Új üzenete érkezett');
      assert.doesNotMatch(mail.mail.text!, /Árvíztűrő|Díjértesítő/);
      assert.equal(mail.mail.attachments.length, 0);
    });

    it('the right recipient reads precondition, message, attachment and list; the first fetch records READ once', async () => {
      const pre = await get(`/portal/v1/messages/${remoteId}/precondition`, 'RCP-1');
      assert.equal(pre.status, 200);
      assert.ok((await pre.json()).markdown);
      const res = await get(`/portal/v1/messages/${remoteId}`, 'RCP-1');
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.details.subject, 'Díjértesítő');
      assert.match(body.details.markdown, /Árvíztűrő tükörfúrógép/);
      assert.deepEqual(body.attachments, [{ id: '0', content_type: 'application/pdf', name: 'minta.pdf', url: 'attachments/0', category: 'DOCUMENT' }]);
      await get(`/portal/v1/messages/${remoteId}`, 'RCP-1');
      const reads = await gw.db.knex('message_events').where({ message_id: id, status: 'READ' });
      assert.equal(reads.length, 1);
      const bytes = Buffer.from(await (await get(`/portal/v1/messages/${remoteId}/${body.attachments[0].url}`, 'RCP-1')).arrayBuffer());
      assert.ok(bytes.equals(fixtureBytes('files', 'minta.pdf')));
      const list = await (await get('/portal/v1/recipients/RCP-1/messages', 'RCP-1')).json();
      assert.deepEqual(list.items.map((m: any) => m.id), [remoteId]);
      assert.equal(list.items[0].read, true);
    });

    it('a wrong or missing recipient gets the same 404 as a missing message, everywhere', async () => {
      for (const p of [`/portal/v1/messages/${remoteId}/precondition`, `/portal/v1/messages/${remoteId}`, `/portal/v1/messages/${remoteId}/attachments/0`, '/portal/v1/recipients/RCP-1/messages']) {
        assert.equal((await get(p, 'RCP-2')).status, 404, p);
        assert.equal((await get(p)).status, 404, p);
      }
      assert.equal((await get(`/portal/v1/messages/${id}`, 'RCP-1')).status, 404, 'the messageId names nothing in the portal');
      assert.equal((await get(`/portal/v1/messages/${remoteId}/attachments/1000`, 'RCP-1')).status, 404);
    });

    it('PORTAL needs partnerRef', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, channel: 'PORTAL', recipientEmailAddress: 'p@example.com' }));
      assert.equal(r.code, 1);
      assert.equal(r.messages[0]!.field, 'partnerRef');
    });
  });

  describe('ARCHIVE and the DMS', () => {
    let id: number;
    const search = (q: string, key = DEMO_KEY) => fetch(`${gw.url}/hammy/json/send/v2/documents?${q}`, { headers: { 'X-Client-Hash-Key': key } });
    before(async () => {
      const r = await postSoap(
        gw.url,
        envelope('sendMail', { ...base, channel: 'ARCHIVE', mailSubject: undefined, mailBody: undefined }, {
          attachments: attachment('minta.pdf', { content: b64('minta.pdf'), extra: '<documentType>SZERZODES</documentType><objectType>POLICY</objectType><objectRef>OBJ-77</objectRef>', props: prop('SZERZODO_NEVE', 'Cserepes Virág', true) + prop('ARCHIVE_TARGET', 'DMS') }),
        }),
      );
      assert.equal(r.code, 0, r.raw);
      id = r.messageId!;
    });

    it('is archived only: status ARCHIVED, nothing delivered', async () => {
      const events = await waitForStatus(gw, id, 'ARCHIVED');
      assert.deepEqual(events.map((e) => e.status), ['RECEIVED', 'QUEUED', 'ARCHIVED']);
      assert.equal((await gw.db.knex('messages').where({ id }).first()).status, 'ARCHIVED');
      assert.ok(!gw.smtp.received.some((m) => m.mail.headers.get('x-hammy-message-id') === String(id)));
    });

    it('the DMS finds it by objectRef, documentType, objectType and metadata, and serves its bytes', async () => {
      for (const q of ['objectRef=OBJ-77', 'documentType=SZERZODES', 'objectType=POLICY', `meta.SZERZODO_NEVE=${encodeURIComponent('Cserepes Virág')}`, `messageId=${id}`]) {
        const res = await search(q);
        assert.equal(res.status, 200, q);
        const body = await res.json();
        assert.equal(body.data.length, 1, q);
        assert.equal(body.data[0].attributes.messageId, id);
        assert.deepEqual(body.data[0].attributes.metadata, { SZERZODO_NEVE: 'Cserepes Virág' });
      }
      assert.equal((await (await search('meta.SZERZODO_NEVE=Senki')).json()).data.length, 0);
      const doc = (await (await search('objectRef=OBJ-77')).json()).data[0];
      const bytes = Buffer.from(await (await fetch(`${gw.url}${doc.links.content}`, { headers: { 'X-Client-Hash-Key': DEMO_KEY } })).arrayBuffer());
      assert.ok(bytes.equals(fixtureBytes('files', 'minta.pdf')));
    });

    it('never across clients: another client finds nothing and gets 404 for the content', async () => {
      assert.equal((await (await search('objectRef=OBJ-77', 'other-client-key')).json()).data.length, 0);
      const doc = (await (await search('objectRef=OBJ-77')).json()).data[0];
      assert.equal((await fetch(`${gw.url}${doc.links.content}`, { headers: { 'X-Client-Hash-Key': 'other-client-key' } })).status, 404);
      assert.equal((await search('objectRef=OBJ-77', 'no-such-key')).status, 401);
    });

    it('ARCHIVE without attachments is code 1', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: 'X', channel: 'ARCHIVE' }));
      assert.equal(r.code, 1);
      assert.equal(r.messages[0]!.field, 'attachments');
    });

    it('sample envelope 3 archives its attachment to the DMS with its metadata, then sends', async () => {
      const r = await postSoap(gw.url, fixture('soap', 'sample3.xml'));
      const events = await waitForStatus(gw, r.messageId!, 'SENT');
      assert.deepEqual(events.map((e) => e.status), ['RECEIVED', 'QUEUED', 'ARCHIVED', 'SENT']);
      const body = await (await search(`messageId=${r.messageId}`)).json();
      assert.equal(body.data.length, 1);
      assert.equal(body.data[0].attributes.objectRef, '123456789');
      assert.equal(body.data[0].attributes.fileName, 'test.pdf', 'INTERNAL_FILE_NAME names the archived copy');
      assert.deepEqual(body.data[0].attributes.metadata, { SZERZODO_NEVE: 'Béla' });
    });
  });

  describe('FS archive target and file-system sources', () => {
    it('ARCHIVE_TARGET FS with ARCHIVE_RELATIVE_PATH /alma/ writes the file and a metadata sidecar under the client folder of ARCHIVE_DIR', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, recipientEmailAddress: 'fs@example.com' }, {
        attachments: attachment('minta.pdf', { content: b64('minta.pdf'), extra: '<archivingExpected>true</archivingExpected><objectRef>FS-1</objectRef>', props: prop('ARCHIVE_TARGET', 'FS') + prop('ARCHIVE_RELATIVE_PATH', '/alma/') + prop('SZERZODO_NEVE', 'Béla', true) }),
      }));
      assert.equal(r.code, 0, r.raw);
      await waitForStatus(gw, r.messageId!, 'SENT');
      const file = path.join(cfg().archiveDir, 'demo', 'alma', `${r.messageId}_minta.pdf`);
      assert.ok(fs.readFileSync(file).equals(fixtureBytes('files', 'minta.pdf')));
      const meta = JSON.parse(fs.readFileSync(`${file}.meta.json`, 'utf8'));
      assert.equal(meta.messageId, r.messageId);
      assert.equal(meta.objectRef, 'FS-1');
      assert.deepEqual(meta.metadata, { SZERZODO_NEVE: 'Béla' });
    });

    it('archivingExpected on the message archives its rendered subject and body', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, recipientEmailAddress: 'arch@example.com', archivingExpected: 'true' }));
      await waitForStatus(gw, r.messageId!, 'SENT');
      const body = await (await fetch(`${gw.url}/hammy/json/send/v2/documents?messageId=${r.messageId}`, { headers: { 'X-Client-Hash-Key': DEMO_KEY } })).json();
      assert.equal(body.data.length, 1);
      const text = await (await fetch(`${gw.url}${body.data[0].links.content}`, { headers: { 'X-Client-Hash-Key': DEMO_KEY } })).text();
      assert.match(text, /^Subject: Díjértesítő/);
      assert.match(text, /Árvíztűrő tükörfúrógép/);
    });

    it('ATTACHMENT_SOURCE FS reads the client folder of SOURCE_DIR; deleteSourceExpected removes it only once stored', async () => {
      fs.mkdirSync(path.join(path.join(cfg().sourceDir, 'demo'), 'in'), { recursive: true });
      fs.copyFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/files/test.pdf'), path.join(path.join(cfg().sourceDir, 'demo'), 'in', 'keep.pdf'));
      fs.copyFileSync(path.join(path.join(cfg().sourceDir, 'demo'), 'in', 'keep.pdf'), path.join(path.join(cfg().sourceDir, 'demo'), 'in', 'gone.pdf'));
      const src = (p: string, del: boolean) => attachment('level.pdf', { extra: `<deleteSourceExpected>${del}</deleteSourceExpected>`, props: prop('ATTACHMENT_SOURCE', 'FS') + prop('RELATIVE_FILE_PATH', p) });
      const a = await postSoap(gw.url, envelope('sendMail', { ...base, recipientEmailAddress: 'src@example.com' }, { attachments: src('in/keep.pdf', false) + src('/in/gone.pdf', true) }));
      assert.equal(a.code, 0, a.raw);
      assert.ok(fs.existsSync(path.join(path.join(cfg().sourceDir, 'demo'), 'in', 'keep.pdf')));
      assert.ok(!fs.existsSync(path.join(path.join(cfg().sourceDir, 'demo'), 'in', 'gone.pdf')));
      const stored = await gw.db.knex('attachments').where({ message_id: a.messageId }).orderBy('seq');
      assert.ok(stored[1].content.equals(fixtureBytes('files', 'test.pdf')));
    });

    it('a missing source file is code 5 naming the field', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { ...base, recipientEmailAddress: 'x@example.com' }, { attachments: attachment('x.pdf', { props: prop('ATTACHMENT_SOURCE', 'FS') + prop('RELATIVE_FILE_PATH', 'nope.pdf') }) }));
      assert.equal(r.code, 5);
      assert.equal(r.messages[0]!.field, 'attachments[0].properties.RELATIVE_FILE_PATH');
    });

    it('every traversal attempt is refused with code 5, for sources and archive targets alike', async () => {
      const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'));
      fs.writeFileSync(path.join(outside, 'secret.pdf'), fixtureBytes('files', 'test.pdf'));
      fs.mkdirSync(path.join(cfg().sourceDir, 'demo'), { recursive: true });
      fs.mkdirSync(path.join(cfg().archiveDir, 'demo'), { recursive: true });
      fs.symlinkSync(outside, path.join(path.join(cfg().sourceDir, 'demo'), 'link-out'));
      fs.symlinkSync(outside, path.join(path.join(cfg().archiveDir, 'demo'), 'link-out'));
      const before = Number((await gw.db.knex('messages').count('* as n'))[0]!.n);
      for (const p of ['../secret.pdf', '../../../../etc/passwd', 'in/../../x.pdf', 'link-out/secret.pdf', `${outside}/../../etc/passwd`]) {
        const r = await postSoap(gw.url, envelope('sendMail', { ...base, recipientEmailAddress: 'x@example.com' }, { attachments: attachment('x.pdf', { props: prop('ATTACHMENT_SOURCE', 'FS') + prop('RELATIVE_FILE_PATH', p) }) }));
        assert.equal(r.code, 5, `source ${p}: ${r.raw}`);
      }
      for (const p of ['../', '/../x', 'a/../../b', 'link-out/', 'link-out/deeper/']) {
        const r = await postSoap(gw.url, envelope('sendMail', { ...base, recipientEmailAddress: 'x@example.com' }, { attachments: attachment('x.pdf', { content: b64('test.pdf'), extra: '<archivingExpected>true</archivingExpected>', props: prop('ARCHIVE_TARGET', 'FS') + prop('ARCHIVE_RELATIVE_PATH', p) }) }));
        assert.equal(r.code, 5, `archive ${p}: ${r.raw}`);
        assert.match(r.messages[0]!.field!, /ARCHIVE_RELATIVE_PATH/);
      }
      assert.equal(Number((await gw.db.knex('messages').count('* as n'))[0]!.n), before, 'nothing stored');
      assert.deepEqual(fs.readdirSync(outside), ['secret.pdf'], 'nothing written outside');
    });
  });

  describe('a crash between the archive write and the status update', () => {
    it('re-running the job leaves exactly one archived entry per item, in DMS and FS, and one ARCHIVED event', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: 'Crash', channel: 'ARCHIVE' }, {
        attachments:
          attachment('a.pdf', { content: b64('minta.pdf'), props: prop('ARCHIVE_TARGET', 'DMS') }) +
          attachment('b.pdf', { content: b64('test.pdf'), props: prop('ARCHIVE_TARGET', 'FS') + prop('ARCHIVE_RELATIVE_PATH', 'crash') }),
      }));
      await waitForStatus(gw, r.messageId!, 'ARCHIVED');
      // The worker died after writing the archive but before settling: its job is still there, lock expired.
      await gw.db.knex('message_events').where({ message_id: r.messageId, status: 'ARCHIVED' }).delete();
      await gw.db.knex('messages').where({ id: r.messageId }).update({ status: 'QUEUED' });
      await gw.db.knex('jobs').insert({ message_id: r.messageId, attempts: 1 });
      await waitForStatus(gw, r.messageId!, 'ARCHIVED');
      assert.equal(Number((await gw.db.knex('dms_documents').where({ message_id: r.messageId }).count('* as n'))[0]!.n), 1);
      assert.equal(Number((await gw.db.knex('archive_entries').where({ message_id: r.messageId }).count('* as n'))[0]!.n), 2);
      const files = fs.readdirSync(path.join(path.join(cfg().archiveDir, 'demo'), 'crash'));
      assert.deepEqual(files.sort(), [`${r.messageId}_b.pdf`, `${r.messageId}_b.pdf.meta.json`]);
      assert.equal((await gw.db.knex('message_events').where({ message_id: r.messageId, status: 'ARCHIVED' })).length, 1);
    });
  });

  describe('which channel', () => {
    it("the template's channel applies when the request names none; the request's wins when it does", async () => {
      const [{ id: cid }] = await gw.db.knex('clients').where({ key_hash: keyHash(DEMO_KEY) }).select('id');
      await gw.db.knex('templates').insert({ client_id: cid, message_type: 'LEVEL.POST', version: 1, subject: 'Levél {{recipientName}}', text_body: 'Szöveg', default_channel: 'POST' });
      const dry = (extra: Record<string, string> = {}) =>
        postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: 'T', messageType: 'LEVEL.POST', recipientPostalAddress: 'A', letterType: 'NORMAL', recipientEmailAddress: 't@example.com', ...extra }, { params: '<param><key>DRY_RUN</key><value>true</value></param>' }));
      const p = (r: Awaited<ReturnType<typeof postSoap>>) => Object.fromEntries(r.params.map((x) => [x.key, x.value]));
      assert.equal(p(await dry()).CHANNEL, 'POST');
      assert.equal(p(await dry({ channel: 'EMAIL' })).CHANNEL, 'EMAIL');
      const bad = await dry({ channel: 'FAX' });
      assert.equal(bad.code, 1);
      assert.equal(bad.messages[0]!.field, 'channel');
    });
  });
});

describe('when signing fails (SPEC §4 step 5)', function () {
  this.timeout(60000);
  let gw: TestGateway;
  before(async () => {
    const dir = tempDir('badcert-');
    fs.writeFileSync(path.join(dir, 'broken.p12'), 'not a certificate');
    gw = await startTestGateway({ CERT_P12_PATH: path.join(dir, 'broken.p12'), CERT_P12_PASSWORD: 'secret-pass' });
  });
  after(async () => gw?.stop());
  const post = (postable: boolean) =>
    postSoap(
      gw.url,
      envelope('sendMail', { ...base, channel: 'POST', recipientPostalAddress: 'Fő utca 1.;1011 Budapest', letterType: 'NORMAL' }, {
        attachments: attachment('minta.pdf', { content: b64('minta.pdf'), extra: `<certificationExpected>true</certificationExpected><postableWithoutCertificate>${postable}</postableWithoutCertificate>` }),
      }),
    );

  it('postableWithoutCertificate=true: the letter still goes by POST, and the event says it went uncertified', async () => {
    const r = await post(true);
    const events = await waitForStatus(gw, r.messageId!, 'SENT');
    assert.match(events.at(-1)!.reason, /without certificate/);
    assert.doesNotMatch(events.at(-1)!.reason, /secret-pass/);
  });

  it('otherwise FAILED with the reason, and nothing printed', async () => {
    const r = await post(false);
    const events = await waitForStatus(gw, r.messageId!, 'FAILED');
    assert.match(events.at(-1)!.reason, /certification of minta\.pdf failed/);
    assert.equal(await gw.db.knex('print_items').where({ message_id: r.messageId }).first(), undefined);
  });
});
