// The Hammy page's three sample envelopes, through real HTTP, real PostgreSQL and a real SMTP server.
import assert from 'node:assert/strict';
import { fixture, fixtureBytes, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { postSoap } from '../helpers/soap.js';

describe('SOAP sample envelopes (SPEC §2)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => gw?.stop());

  it('sample 1: direct subject and body reach the recipient', async () => {
    const r = await postSoap(gw.url, fixture('soap', 'sample1.xml'));
    assert.equal(r.httpStatus, 200);
    assert.equal(r.code, 0, r.raw);
    assert.ok(r.messageId! > 0);
    const [m] = await gw.smtp.waitFor(1);
    assert.equal(m!.mail.subject, 'Teszt levél tárgy');
    assert.equal(m!.mail.text?.trim(), 'Teszt levél szöveg');
    assert.deepEqual(m!.mail.from?.value, [{ name: 'NAME', address: 'norepy@dbx.hu' }]);
    assert.deepEqual((m!.mail.to as any).value, [{ name: 'NAME', address: 'emailaddress@dbx.hu' }]);
    assert.deepEqual(m!.envelopeTo, ['emailaddress@dbx.hu']);
    assert.equal(m!.mail.headers.get('x-hammy-message-id'), String(r.messageId));
  });

  it('sample 2: TEST.MAIL version 1 renders DATA.contractNumber and DATA.clientID from xmlData', async () => {
    gw.smtp.received = [];
    const r = await postSoap(gw.url, fixture('soap', 'sample2.xml'));
    assert.equal(r.code, 0, r.raw);
    const [m] = await gw.smtp.waitFor(1);
    assert.equal(m!.mail.subject, 'Tesztlevél a(z) 10000001 számú szerződéshez');
    assert.match(m!.mail.text!, /Kedves NAME!/);
    assert.match(m!.mail.text!, /10000001 számú szerződésével/);
    assert.match(m!.mail.text!, /Ügyfélazonosító: 9000001/);
    assert.match(m!.mail.html as string, /<b>10000001<\/b>/);
  });

  it('sample 3: same requestId as sample 2 but other content is a second message, with CC and the PDF attachment', async () => {
    gw.smtp.received = [];
    const r2 = await postSoap(gw.url, fixture('soap', 'sample2.xml'));
    const r3 = await postSoap(gw.url, fixture('soap', 'sample3.xml'));
    assert.equal(r3.code, 0, r3.raw);
    assert.notEqual(r3.messageId, r2.messageId);
    const mails = await gw.smtp.waitFor(1);
    const m = mails.find((x) => x.mail.headers.get('x-hammy-message-id') === String(r3.messageId));
    assert.ok(m, 'mail of sample 3 arrives');
    assert.deepEqual((m.mail.cc as any).value, [{ name: 'CC NAME', address: 'cc_email_address@dbx.hu' }]);
    assert.deepEqual(m.envelopeTo.sort(), ['cc_email_address@dbx.hu', 'emailaddress@dbx.hu']);
    assert.equal(m.mail.attachments.length, 1);
    assert.equal(m.mail.attachments[0]!.filename, 'minta.pdf');
    assert.ok(m.mail.attachments[0]!.content.equals(fixtureBytes('files', 'minta.pdf')), 'attachment arrives byte-identical');
    // stored as the request said: attachment flags and properties kept for archiving (channels issue)
    const att = await gw.db.knex('attachments').where({ message_id: r3.messageId }).first();
    assert.equal(att.document_type, 'SAMPLE1');
    assert.equal(att.object_ref, '123456789');
    assert.equal(att.archiving_expected, true);
    assert.equal(att.internal_file_name, 'test.pdf');
    assert.deepEqual(att.properties.find((p: any) => p.key === 'SZERZODO_NEVE'), { key: 'SZERZODO_NEVE', value: 'Béla', isMetaData: true });
    const msg = await gw.db.knex('messages').where({ id: r3.messageId }).first();
    assert.deepEqual(msg.properties, [{ key: 'AKARMI_PROPERTY', value: 'egy valami', isMetaData: false }]);
    assert.equal(msg.request_id, '123');
    assert.equal(msg.partner_ref, 'partner1234');
    assert.equal(msg.message_type_version, 1);
  });

  it('records RECEIVED, QUEUED and SENT with timestamps', async () => {
    const r = await postSoap(gw.url, fixture('soap', 'sample1.xml').replace('Teszt levél tárgy', 'timeline'));
    const events = await waitForStatus(gw, r.messageId!, 'SENT');
    assert.deepEqual(events.map((e) => e.status), ['RECEIVED', 'QUEUED', 'SENT']);
    for (const e of events) assert.ok(e.created_at instanceof Date);
  });

});
