// The REST intake (SPEC §3) end to end: every body form, the Hammy page's sample, attachments into the mail, batches, traceability.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_KEY, fixture, fixtureBytes, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';
import { JSONAPI, multipart, pageSample, post, postJson, postJsonApi, postMultipart, RESEND, SEND } from '../helpers/rest.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const direct = { recipientName: 'Teszt Elek', recipientEmailAddress: 'elek@example.com', mailSubject: 'Tárgy', mailBody: 'Szöveg' };
const jsonApiDoc = (attributes: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ data: { type: 'sendRequest', attributes }, ...extra });

describe('REST intake (SPEC §3)', () => {
  let gw: TestGateway;
  before(async () => {
    // The Hammy page's sample sends the key in the query too, which only ALLOW_KEY_IN_QUERY accepts (key-in-query.test.ts).
    gw = await startTestGateway({ ALLOW_KEY_IN_QUERY: 'true' });
  });
  after(async () => gw?.stop());
  const row = (id: number) => gw.db.knex('messages').where({ id }).first();
  /** The mail of a message, by the X-Hammy-Message-Id header the EMAIL channel sets. */
  async function mailOf(messageId: number) {
    await waitForStatus(gw, messageId, 'SENT');
    const mail = gw.smtp.received.find((m) => m.mail.headers.get('x-hammy-message-id') === String(messageId));
    assert.ok(mail, `a mail for message ${messageId}`);
    return mail.mail;
  }

  describe('the Hammy page sample', () => {
    it('is accepted as written: multipart/form-data, its boundary, a part without filename, query + headers; the answer echoes Authorization', async () => {
      const s = pageSample({ clientHashKey: DEMO_KEY, userName: 'tesztelek', jwtToken: 'eyJ.sample.token', boundary: '974767299852498929531610575', attachmentPartNev: 'kep' });
      assert.equal(s.target, '/hammy/json/send/v1/send?clientHashKey=aa87cd4bcd3445bbc4&userName=tesztelek');
      const r = await post(gw.url, s.target, s.body, s.headers);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('content-type'), JSONAPI);
      assert.equal(r.headers.get('authorization'), 'JWT eyJ.sample.token');
      const id = Number(r.json.data.id);
      assert.deepEqual(r.json, { data: { type: 'sendResponse', id: String(id), attributes: {} }, meta: { total: null, params: [], responseStatus: { code: 0, messages: [] } } });

      const mail = await mailOf(id);
      assert.equal(mail.subject, 'Teszt');
      assert.equal((mail.to as any).value[0].address, 'cimzett.neve@valahol.hu');
      assert.equal(mail.attachments.length, 1);
      assert.equal(mail.attachments[0]!.filename, 'image.png');
      assert.ok(mail.attachments[0]!.content.equals(fixtureBytes('files', 'image.png')), 'the PNG arrives byte-identical');
      const m = await row(id);
      assert.equal(m.user_name, 'tesztelek');
      assert.equal(m.intake, 'rest');
      // archivingExpected with ARCHIVE_TARGET FS and ARCHIVE_RELATIVE_PATH /alma/ (the sample's properties).
      await waitForStatus(gw, id, 'ARCHIVED');
      const archived = path.join(gw.dataDir, 'archive', 'demo', 'alma', `${id}_internal-image.png`);
      assert.ok(fs.readFileSync(archived).equals(fixtureBytes('files', 'image.png')), 'archived under its internalFileName');
    });
  });

  describe('every body form', () => {
    it('application/vnd.api+json: the queue sample (relationships into included, FS source) on the v2 path', async () => {
      const r = await postJsonApi(gw.url, fixture('amqp', 'sample-jsonapi.json'), { 'X-Client-Hash-Key': DEMO_KEY, 'X-User-Name': 'queue.user' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.meta.responseStatus.code, 0);
      const id = Number(r.json.data.id);
      const mail = await mailOf(id);
      assert.match(mail.subject ?? '', /351 díjértesítő – 123456789/);
      assert.ok(mail.attachments[0]!.content.equals(fixtureBytes('files', 'test.pdf')), 'minta.pdf read from SOURCE_DIR/test.pdf');
      assert.equal((await row(id)).user_name, 'queue.user');
    });

    it('application/json: the queue sample as a flat object, answered in the plain shape', async () => {
      const r = await postJson(gw.url, fixture('amqp', 'sample-json.json'), { 'X-Client-Hash-Key': DEMO_KEY });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.deepEqual(Object.keys(r.json).sort(), ['messageId', 'meta']);
      assert.deepEqual(r.json.meta, { responseStatus: { code: 0, messages: [] }, params: [] });
      await mailOf(r.json.messageId);
    });

    it('multipart/form-data with a plain JSON message: a PDF and 3 MB of random bytes arrive byte-identical', async () => {
      const big = randomBytes(3 * 1024 * 1024);
      const message = { clientHashKey: DEMO_KEY, ...direct, attachments: [{ fileName: 'minta.pdf', attachmentRef: 'pdf' }, { fileName: 'adat.bin', attachmentRef: 'bin' }] };
      const r = await postMultipart(gw.url, [
        { name: 'message', type: 'application/json', body: JSON.stringify(message) },
        { name: 'pdf', type: 'application/pdf', filename: 'minta.pdf', body: fixtureBytes('files', 'minta.pdf') },
        { name: 'bin', type: 'application/octet-stream', body: big },
      ]);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.messageId, 'a plain JSON message part answers in the plain shape');
      const mail = await mailOf(r.json.messageId);
      assert.deepEqual(mail.attachments.map((a) => a.filename), ['minta.pdf', 'adat.bin']);
      assert.ok(mail.attachments[0]!.content.equals(fixtureBytes('files', 'minta.pdf')));
      assert.equal(sha(mail.attachments[1]!.content), sha(big));
    });

    it('multipart/mixed: parts named by Content-ID (also as cid: URLs), the message part after the files', async () => {
      const doc = jsonApiDoc(
        { clientHashKey: DEMO_KEY, ...direct },
        {
          data: {
            type: 'sendRequest',
            attributes: { clientHashKey: DEMO_KEY, ...direct },
            relationships: { attachments: { data: [{ type: 'attachments', id: 'a' }, { type: 'attachments', id: 'b' }] } },
          },
          included: [
            { type: 'attachments', id: 'a', attributes: { fileName: 'kep.png', attachmentRef: 'cid:kep@hammy' } },
            { type: 'attachments', id: 'b', attributes: { fileName: 'minta.pdf', attachmentRef: 'pdf-1' } },
          ],
        },
      );
      const r = await postMultipart(
        gw.url,
        [
          { name: 'kep@hammy', type: 'image/png', body: fixtureBytes('files', 'image.png') },
          { name: 'pdf-1', type: 'application/pdf', body: fixtureBytes('files', 'minta.pdf'), headers: { 'Content-Transfer-Encoding': 'binary' } },
          { type: JSONAPI, body: JSON.stringify(doc), headers: { 'Content-Disposition': 'inline; name="message"' } },
        ],
        {},
        'mixed',
      );
      assert.equal(r.status, 200, r.text);
      const mail = await mailOf(Number(r.json.data.id));
      assert.ok(mail.attachments[0]!.content.equals(fixtureBytes('files', 'image.png')));
      assert.ok(mail.attachments[1]!.content.equals(fixtureBytes('files', 'minta.pdf')));
    });

    it('a message part sent as a file without a type is read by its shape (JSON:API has a top-level data)', async () => {
      const r = await postMultipart(gw.url, [
        { name: 'message', filename: 'message.json', body: JSON.stringify(jsonApiDoc({ clientHashKey: DEMO_KEY, ...direct })) },
      ]);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.data.type, 'sendResponse');
    });

    it('a base64 attachment in a JSON body, and null meaning "not given"', async () => {
      const r = await postJson(gw.url, {
        clientHashKey: DEMO_KEY,
        ...direct,
        batchId: null,
        attachments: [{ fileName: 'minta.pdf', content: fixtureBytes('files', 'minta.pdf').toString('base64'), documentType: null }],
      });
      assert.equal(r.status, 200, r.text);
      const mail = await mailOf(r.json.messageId);
      assert.ok(mail.attachments[0]!.content.equals(fixtureBytes('files', 'minta.pdf')));
    });
  });

  describe('resend, DRY_RUN and the v1 aliases', () => {
    it('resend as JSON:API and as plain JSON, on v2 and v1, to a corrected address', async () => {
      const first = await postJson(gw.url, { clientHashKey: DEMO_KEY, ...direct, mailSubject: 'eredeti' });
      const a = await postJsonApi(gw.url, { data: { type: 'resendRequest', attributes: { messageId: first.json.messageId, recipientAddress: 'javitott@example.com' } } }, { 'X-Client-Hash-Key': DEMO_KEY }, RESEND);
      assert.equal(a.status, 200, a.text);
      const b = await postJson(gw.url, { clientHashKey: DEMO_KEY, messageId: String(first.json.messageId) }, {}, '/hammy/json/send/v1/resend');
      assert.equal(b.status, 200, b.text);
      for (const id of [Number(a.json.data.id), b.json.messageId]) assert.equal((await row(id)).related_message_id, first.json.messageId);
      assert.equal((await mailOf(Number(a.json.data.id))).subject, 'eredeti');
      assert.equal((await row(Number(a.json.data.id))).recipient_email_address, 'javitott@example.com');
    });

    it('DRY_RUN renders and stores nothing: data.id is null and the params carry the rendering', async () => {
      const before = await gw.db.knex('messages').count('* as n');
      const r = await postJsonApi(gw.url, jsonApiDoc({ clientHashKey: DEMO_KEY, ...direct, params: [{ key: 'DRY_RUN', value: 'true' }] }));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.data.id, null);
      assert.ok(r.json.meta.params.some((p: any) => p.key === 'RENDERED_SUBJECT' && p.value === 'Tárgy'));
      assert.deepEqual(await gw.db.knex('messages').count('* as n'), before);
    });
  });

  describe('traceability and idempotency', () => {
    it('X-Origin, X-Issuer and the user are stored with the message and shown by the status API', async () => {
      const r = await postJson(gw.url, { ...direct }, { 'X-Client-Hash-Key': DEMO_KEY, 'X-Origin': 'crm-prod', 'X-Issuer': 'kovacs.janos', 'X-User-Name': 'ugyintezo1' });
      assert.equal(r.status, 200, r.text);
      const m = await row(r.json.messageId);
      assert.deepEqual([m.origin, m.issuer, m.user_name, m.correlation_id], ['crm-prod', 'kovacs.janos', 'ugyintezo1', r.headers.get('x-correlation-id')]);
      const status = await fetch(`${gw.url}/hammy/json/send/v2/messages/${r.json.messageId}`, { headers: { 'X-Client-Hash-Key': DEMO_KEY } });
      const a = (await status.json()).data.attributes;
      assert.deepEqual([a.origin, a.issuer, a.userName, a.intake], ['crm-prod', 'kovacs.janos', 'ugyintezo1', 'rest'], 'visible in its status later');
    });

    it('Idempotency-Key: the same payload returns the first messageId, another payload is 409 code 4 naming the header', async () => {
      const key = { 'Idempotency-Key': `idem-${Date.now()}`, 'X-Client-Hash-Key': DEMO_KEY };
      const a = await postJsonApi(gw.url, jsonApiDoc({ ...direct }), key);
      const b = await postJsonApi(gw.url, jsonApiDoc({ ...direct }), key);
      assert.equal(b.json.data.id, a.json.data.id);
      const c = await postJsonApi(gw.url, jsonApiDoc({ ...direct, mailBody: 'más' }), key);
      assert.equal(c.status, 409);
      assert.equal(c.json.meta.responseStatus.code, 4);
      assert.deepEqual(c.json.errors[0].source, { header: 'Idempotency-Key' });
    });

    it('SPEC §6 across intakes: a SOAP base64 request and its REST multipart form are one message', async () => {
      const requestId = `cross-${Date.now()}`;
      const soap = await postSoap(
        gw.url,
        envelope('sendMail', { clientHashKey: DEMO_KEY, requestId, ...direct }, {
          attachments: `<attachment><fileName>minta.pdf</fileName><content>${fixtureBytes('files', 'minta.pdf').toString('base64')}</content></attachment>`,
        }),
      );
      assert.equal(soap.code, 0, soap.raw);
      const rest = await postMultipart(gw.url, [
        { name: 'message', type: 'application/json', body: JSON.stringify({ clientHashKey: DEMO_KEY, requestId, ...direct, attachments: [{ fileName: 'minta.pdf', attachmentRef: 'f' }] }) },
        { name: 'f', type: 'application/pdf', body: fixtureBytes('files', 'minta.pdf') },
      ]);
      assert.equal(rest.json.messageId, soap.messageId);
    });
  });

  describe('a batch (JSON:API data as an array)', () => {
    it('each item is accepted or refused on its own: the good ones are stored and sent, the bad one reports its own errors', async () => {
      const doc = {
        data: [
          { type: 'sendRequest', id: 'elso', attributes: { ...direct, mailSubject: 'batch 1' } },
          { type: 'sendRequest', id: 'masodik', attributes: { ...direct, recipientName: null, recipientEmailAddress: 'nem-cim' } },
          { type: 'sendRequest', id: 'harmadik', attributes: { ...direct, mailSubject: 'batch 3' }, relationships: { attachments: { data: [{ type: 'attachments', id: '1' }] } } },
        ],
        included: [{ type: 'attachments', id: '1', attributes: { fileName: 'kep.png', attachmentRef: 'kep' } }],
      };
      const r = await postMultipart(gw.url, [
        { name: 'message', type: JSONAPI, body: JSON.stringify(doc) },
        { name: 'kep', type: 'image/png', body: fixtureBytes('files', 'image.png') },
      ], { 'X-Client-Hash-Key': DEMO_KEY });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.data.length, 3);
      const [one, two, three] = r.json.data;
      for (const ok of [one, three]) {
        assert.equal(ok.type, 'sendResponse');
        assert.match(ok.id, /^\d+$/);
        assert.equal(ok.meta.responseStatus.code, 0);
      }
      assert.equal(two.meta.responseStatus.code, 1);
      assert.deepEqual(two.meta.responseStatus.messages.map((m: any) => m.field).sort(), ['recipientEmailAddress', 'recipientName']);
      assert.deepEqual(two.meta.errors.map((e: any) => e.source.pointer).sort(), ['/data/1/attributes/recipientEmailAddress', '/data/1/attributes/recipientName']);
      assert.equal(r.json.errors, undefined, 'JSON:API: data or errors, never both');
      assert.equal(r.json.meta.total, 3);
      assert.equal((await mailOf(Number(one.id))).subject, 'batch 1');
      const third = await mailOf(Number(three.id));
      assert.ok(third.attachments[0]!.content.equals(fixtureBytes('files', 'image.png')));
      assert.equal(await gw.db.knex('messages').where({ subject: 'Tárgy', recipient_email_address: 'nem-cim' }).first(), undefined);
    });

    it('a batch where every item is refused answers with their status', async () => {
      const r = await postJsonApi(gw.url, { data: [{ type: 'sendRequest', attributes: { ...direct, recipientName: null } }, { type: 'sendRequests', attributes: { ...direct, mailBody: null } }] }, { 'X-Client-Hash-Key': DEMO_KEY });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json.errors.map((e: any) => e.source.pointer), ['/data/0/attributes/recipientName', '/data/1/attributes/mailBody']);
      assert.equal(r.json.data, undefined);
    });
  });

  it('a multipart body built elsewhere: the framing helper round-trips a part holding CRLF and boundary-like bytes', async () => {
    const tricky = Buffer.concat([Buffer.from('\r\n--not-the-boundary\r\n'), randomBytes(1000), Buffer.from('\r\n--')]);
    const m = multipart([
      { name: 'message', type: 'application/json', body: JSON.stringify({ clientHashKey: DEMO_KEY, ...direct, attachments: [{ fileName: 't.bin', attachmentRef: 't' }] }) },
      { name: 't', type: 'application/octet-stream', body: tricky },
    ]);
    const r = await post(gw.url, SEND, m.body, { 'content-type': m.contentType });
    assert.equal(r.status, 200, r.text);
    assert.equal(sha((await mailOf(r.json.messageId)).attachments[0]!.content), sha(tricky));
  });

  it('the parts of a body over the 4 MiB a request may hold in memory, and of a chunked body, go to a spool file; the bytes arrive intact', async () => {
    const big = randomBytes(5 * 1024 * 1024);
    const m = multipart([
      { name: 'message', type: 'application/json', body: JSON.stringify({ clientHashKey: DEMO_KEY, ...direct, attachments: [{ fileName: 'big.bin', attachmentRef: 'big' }] }) },
      { name: 'big', type: 'application/octet-stream', body: big },
    ]);
    const declared = await post(gw.url, SEND, m.body, { 'content-type': m.contentType });
    assert.equal(declared.status, 200, declared.text);
    // No Content-Length: nobody knows ahead how large the body is.
    const body = new ReadableStream({
      start(c) {
        for (let i = 0; i < m.body.length; i += 64 * 1024) c.enqueue(m.body.subarray(i, i + 64 * 1024));
        c.close();
      },
    });
    const res = await fetch(`${gw.url}${SEND}`, { method: 'POST', headers: { 'content-type': m.contentType }, body, duplex: 'half' } as RequestInit);
    const chunked = await res.json();
    assert.equal(res.status, 200, JSON.stringify(chunked));
    for (const id of [declared.json.messageId, chunked.messageId]) assert.equal(sha((await mailOf(id)).attachments[0]!.content), sha(big));
  });

  describe('afterwards', () => {
    it('spooled parts are removed once a request is answered', async () => {
      const spool = path.join(gw.dataDir, 'tmp', 'rest');
      assert.ok(fs.existsSync(spool), 'multipart requests were spooled');
      assert.deepEqual(fs.readdirSync(spool), []);
    });
  });
});
