// Every SPEC §7 code through the SOAP intake, and Faults only for what is not a readable request (SPEC §2).
import { keyHash } from '../../src/core/secrets.js';
import assert from 'node:assert/strict';
import { DEMO_KEY, fixture, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

const ok = { clientHashKey: DEMO_KEY, recipientEmailAddress: 'x@example.com', recipientName: 'X', mailSubject: 's', mailBody: 'b' };
const send = (fields: Record<string, string | undefined>, raw: Record<string, string> = {}) => envelope('sendMail', fields, raw);

describe('SOAP errors and faults', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ MAX_REQUEST_BYTES: String(64 * 1024), MAX_ATTACHMENTS: '2', MAX_ATTACHMENT_BYTES: '1000' });
    await gw.db.knex('clients').insert({ key_hash: keyHash('other-client-key'), name: 'Other', default_from_address: 'other@example.com' });
  });
  after(async () => gw?.stop());
  const count = async () => Number((await gw.db.knex('messages').count('* as n'))[0]!.n);

  describe('business errors are normal responses with status.code != 0', () => {
    it('code 1: every violation at once, each naming its field', async () => {
      const r = await postSoap(
        gw.url,
        send({ clientHashKey: DEMO_KEY, recipientEmailAddress: 'not-an-address', mailSubject: 'x'.repeat(601), mailBody: 'b', letterType: 'FAX' }),
      );
      assert.equal(r.httpStatus, 200);
      assert.equal(r.code, 1);
      const fields = r.messages.map((m) => m.field).sort();
      assert.deepEqual(fields, ['letterType', 'mailSubject', 'recipientEmailAddress', 'recipientName']);
      for (const m of r.messages) assert.equal(m.code, 1);
    });

    it('code 1: a missing clientHashKey is reported with the other violations', async () => {
      const r = await postSoap(gw.url, send({ recipientEmailAddress: 'x@example.com', mailSubject: 's', mailBody: 'b' }));
      assert.equal(r.code, 1);
      assert.deepEqual(r.messages.map((m) => m.field).sort(), ['clientHashKey', 'recipientName']);
    });

    it('code 1: a bad integer or boolean is named, not silently coerced', async () => {
      const r = await postSoap(gw.url, send({ ...ok, messageType: 'TEST.MAIL', messageTypeVersion: 'abc', archivingExpected: 'yes', mailSubject: undefined, mailBody: undefined }));
      assert.equal(r.code, 1);
      assert.deepEqual(r.messages.map((m) => m.field).sort(), ['archivingExpected', 'messageTypeVersion']);
    });

    it('code 1: a messageTypeVersion beyond a 32-bit integer is a field error, not an internal one', async () => {
      const r = await postSoap(gw.url, send({ ...ok, messageType: 'TEST.MAIL', messageTypeVersion: '3000000000', mailSubject: undefined, mailBody: undefined }));
      assert.equal(r.code, 1, r.raw);
      assert.deepEqual(r.messages.map((m) => m.field), ['messageTypeVersion']);
    });

    it('code 1: CR/LF in a header-bound field (header injection) is refused', async () => {
      const r = await postSoap(gw.url, send({ ...ok, mailSubject: 'hello&#13;\nBcc: victim@example.com' }));
      assert.equal(r.code, 1);
      assert.equal(r.messages[0]!.field, 'mailSubject');
      assert.match(r.messages[0]!.text, /line breaks/);
    });

    it('code 1: mailSubject together with messageType', async () => {
      const r = await postSoap(gw.url, send({ ...ok, messageType: 'TEST.MAIL', mailBody: undefined }));
      assert.equal(r.code, 1);
      assert.deepEqual(r.messages.map((m) => m.field), ['mailSubject']);
    });

    it('code 1: relatedMessageId must exist for the same client', async () => {
      const r = await postSoap(gw.url, send({ ...ok, relatedMessageId: '999999' }));
      assert.equal(r.code, 1);
      assert.equal(r.messages[0]!.field, 'relatedMessageId');
    });

    it('code 2: unknown client', async () => {
      const r = await postSoap(gw.url, send({ ...ok, clientHashKey: 'no-such-client' }));
      assert.equal(r.code, 2);
      assert.equal(r.messages[0]!.field, 'clientHashKey');
    });

    it('code 2: a disabled client', async () => {
      await gw.db.knex('clients').insert({ key_hash: keyHash('disabled-key'), name: 'Off', enabled: false, default_from_address: 'off@example.com' });
      const r = await postSoap(gw.url, send({ ...ok, clientHashKey: 'disabled-key' }));
      assert.equal(r.code, 2);
    });

    it('code 3: unknown messageType, and unknown version of a known one', async () => {
      const a = await postSoap(gw.url, send({ ...ok, mailSubject: undefined, mailBody: undefined, messageType: 'NO.SUCH' }));
      assert.equal(a.code, 3);
      assert.match(a.messages[0]!.text, /NO\.SUCH/);
      const b = await postSoap(gw.url, send({ ...ok, mailSubject: undefined, mailBody: undefined, messageType: 'TEST.MAIL', messageTypeVersion: '99' }));
      assert.equal(b.code, 3);
    });

    it('code 3: a variable the template needs and the data lacks', async () => {
      const r = await postSoap(
        gw.url,
        send({ ...ok, mailSubject: undefined, mailBody: undefined, messageType: 'TEST.MAIL' }, { xmlData: '<DATA><clientID>1</clientID></DATA>' }),
      );
      assert.equal(r.code, 3);
      assert.match(r.messages[0]!.text, /contractNumber/);
    });

    it('code 5: too many attachments, too large, and base64 that does not decode — all at once', async () => {
      const att = (name: string, content: string) => `<attachment><fileName>${name}</fileName><content>${content}</content></attachment>`;
      const r = await postSoap(
        gw.url,
        send(ok, { attachments: att('a.txt', 'aGVsbG8=') + att('b.txt', Buffer.alloc(2000).toString('base64')) + att('c.txt', '!!not base64!!') }),
      );
      assert.equal(r.code, 5);
      assert.deepEqual(r.messages.map((m) => m.field), ['attachments', 'attachments[1].content', 'attachments[2].content']);
      for (const m of r.messages) assert.equal(m.code, 5);
    });

    it('code 5: an FS source outside SOURCE_DIR is refused', async () => {
      const r = await postSoap(
        gw.url,
        send(ok, {
          attachments: `<attachment><fileName>p.txt</fileName><properties><property><key>ATTACHMENT_SOURCE</key><value>FS</value></property><property><key>RELATIVE_FILE_PATH</key><value>../../etc/passwd</value></property></properties></attachment>`,
        }),
      );
      assert.equal(r.code, 5);
      assert.match(r.messages[0]!.text, /outside/);
    });

    it('code 9: an internal failure answers with a correlation id, no detail, and stores nothing half', async () => {
      const before = await count();
      await gw.db.knex.schema.renameTable('jobs', 'jobs_gone');
      try {
        const r = await postSoap(gw.url, send({ ...ok, mailSubject: 'internal' }), { 'x-correlation-id': 'corr-123' });
        assert.equal(r.httpStatus, 200);
        assert.equal(r.code, 9);
        assert.match(r.messages[0]!.text, /corr-123/);
        assert.doesNotMatch(r.raw, /\bjobs\b|does not exist|select |insert |\.(ts|js):\d+/i);
      } finally {
        await gw.db.knex.schema.renameTable('jobs_gone', 'jobs');
      }
      assert.equal(await count(), before, 'the message insert was rolled back with the failing job insert');
    });
  });

  describe('resendMail (SPEC §6)', () => {
    it('creates a new message with relatedMessageId, to a corrected address', async () => {
      const first = await postSoap(gw.url, send({ ...ok, mailSubject: 'to resend' }));
      const r = await postSoap(gw.url, envelope('resendMail', { clientHashKey: DEMO_KEY, messageId: String(first.messageId), recipientEmailAddress: 'fixed@example.com' }));
      assert.equal(r.code, 0, r.raw);
      assert.ok(r.raw.includes('resendMailResponse'));
      assert.notEqual(r.messageId, first.messageId);
      const row = await gw.db.knex('messages').where({ id: r.messageId }).first();
      assert.equal(row.related_message_id, first.messageId);
      assert.equal(row.recipient_email_address, 'fixed@example.com');
      assert.equal(row.subject, 'to resend');
      const mails = await gw.smtp.waitFor(1);
      await new Promise((res) => setTimeout(res, 200));
      assert.ok(gw.smtp.received.some((m) => m.envelopeTo.includes('fixed@example.com') && m.mail.subject === 'to resend'), String(mails.length));
    });

    it("code 6: another client's message is not found, exactly like a missing one", async () => {
      const mine = await postSoap(gw.url, send(ok));
      const other = await postSoap(gw.url, envelope('resendMail', { clientHashKey: 'other-client-key', messageId: String(mine.messageId) }));
      const missing = await postSoap(gw.url, envelope('resendMail', { clientHashKey: 'other-client-key', messageId: '987654' }));
      assert.equal(other.code, 6);
      assert.equal(missing.code, 6);
      assert.equal(other.messages[0]!.text.replace(/\d+/, 'N'), missing.messages[0]!.text.replace(/\d+/, 'N'));
    });

    it('code 1: resend without messageId', async () => {
      const r = await postSoap(gw.url, envelope('resendMail', { clientHashKey: DEMO_KEY }));
      assert.equal(r.code, 1);
      assert.equal(r.messages[0]!.field, 'messageId');
    });
  });

  describe('Faults only for unreadable requests', () => {
    const expectClientFault = (r: Awaited<ReturnType<typeof postSoap>>) => {
      assert.equal(r.httpStatus, 500);
      assert.equal(r.fault?.faultcode, 'soap:Client', r.raw);
      assert.doesNotMatch(r.raw, /at .*\.(js|ts)|TypeError|node_modules/);
    };
    it('malformed XML', async () => expectClientFault(await postSoap(gw.url, '<soapenv:Envelope><oops')));
    it('not a SOAP 1.1 envelope', async () => expectClientFault(await postSoap(gw.url, '<request><clientHashKey>x</clientHashKey></request>')));
    it('SOAP 1.2 namespace', async () =>
      expectClientFault(await postSoap(gw.url, fixture('soap', 'sample1.xml').replace('http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope'))));
    it('unknown operation', async () => expectClientFault(await postSoap(gw.url, fixture('soap', 'sample1.xml').replaceAll('send:sendMail', 'send:deleteEverything'))));
    it('empty Body', async () =>
      expectClientFault(await postSoap(gw.url, '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body></s:Body></s:Envelope>')));
    it('xmlData with mixed text and elements (node-soap cannot read it)', async () =>
      expectClientFault(await postSoap(gw.url, fixture('soap', 'sample2.xml').replace('<xmlData>', '<xmlData>hello '))));
    it('billion laughs (DOCTYPE with entities) is refused before parsing', async () => {
      const r = await postSoap(gw.url, fixture('hostile', 'soap-billion-laughs.xml'));
      expectClientFault(r);
      assert.match(r.fault!.faultstring, /DOCTYPE/);
    });
    it('external entity (XXE) is refused', async () => {
      const r = await postSoap(gw.url, fixture('hostile', 'soap-xxe.xml'));
      expectClientFault(r);
      assert.doesNotMatch(r.raw, /root:/);
    });
    it('a body over MAX_REQUEST_BYTES is refused with 413 before parsing', async () => {
      const big = fixture('soap', 'sample1.xml').replace('Teszt levél szöveg', 'x'.repeat(70 * 1024));
      const r = await postSoap(gw.url, big);
      assert.equal(r.httpStatus, 413);
      assert.equal(r.fault?.faultcode, 'soap:Client');
    });
    it('the gateway still answers after all of that', async () => {
      const r = await postSoap(gw.url, fixture('soap', 'sample1.xml'));
      assert.equal(r.code, 0);
    });
  });
});
