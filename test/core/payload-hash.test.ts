// The request fingerprint of SPEC §6: equal for equal requests whatever their form, different when content differs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { payloadHash } from '../../src/core/payload-hash.js';
import { SpooledFile } from '../../src/core/send-request.js';
import { documentIssues, validateSendRequest } from '../../src/core/validate.js';

const LIMITS = { maxAttachments: 10, maxAttachmentBytes: 1024 };

describe('payloadHash', () => {
  it('is a hex SHA-256, the same on every call', () => {
    const h = payloadHash({ a: 1, b: 'x' });
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(payloadHash({ a: 1, b: 'x' }), h);
  });

  it('key order does not change the hash, at any depth', () => {
    assert.equal(
      payloadHash({ a: 1, b: { c: 'x', d: [{ e: 1, f: 2 }] } }),
      payloadHash({ b: { d: [{ f: 2, e: 1 }], c: 'x' }, a: 1 }),
    );
  });

  it('empty arrays and undefined values do not change the hash, at any depth', () => {
    const plain = payloadHash({ a: 1, attachments: [{ fileName: 'f' }] });
    assert.equal(payloadHash({ a: 1, properties: [], params: [], attachments: [{ fileName: 'f', properties: [] }] }), plain);
    assert.equal(payloadHash({ a: 1, b: undefined, attachments: [{ fileName: 'f', documentType: undefined }] }), plain);
  });

  it('values do change the hash', () => {
    const base = payloadHash({ a: 1, s: 'x' });
    assert.notEqual(payloadHash({ a: 2, s: 'x' }), base);
    assert.notEqual(payloadHash({ a: 1, s: 'y' }), base);
    assert.notEqual(payloadHash({ a: '1', s: 'x' }), base, 'a string is not the number');
    assert.notEqual(payloadHash({ a: 1, s: 'x', extra: true }), base);
    assert.notEqual(payloadHash({ a: 1, s: 'x', list: ['v'] }), base, 'a non-empty list counts');
  });

  it('list order counts (attachments, properties)', () => {
    assert.notEqual(payloadHash({ l: ['a', 'b'] }), payloadHash({ l: ['b', 'a'] }));
  });

  it('buffer content counts; equal bytes in other buffers hash the same', () => {
    const a = payloadHash({ attachments: [{ fileName: 'f.pdf', content: Buffer.from('%PDF-1.4 one') }] });
    assert.equal(payloadHash({ attachments: [{ fileName: 'f.pdf', content: Buffer.from('%PDF-1.4 one') }] }), a);
    assert.notEqual(payloadHash({ attachments: [{ fileName: 'f.pdf', content: Buffer.from('%PDF-1.4 onf') }] }), a);
    assert.notEqual(payloadHash({ attachments: [{ fileName: 'f.pdf', content: Buffer.from('%PDF-1.4 one ') }] }), a);
    assert.notEqual(payloadHash({ attachments: [{ fileName: 'f.pdf', content: Buffer.alloc(0) }] }), a);
  });

  it('buffers larger than a sample differ when only their last byte differs', () => {
    const x = Buffer.alloc(64 * 1024, 7);
    const y = Buffer.from(x);
    y[y.length - 1] = 8;
    assert.notEqual(payloadHash({ c: x }), payloadHash({ c: y }));
  });

  it('the SOAP and JSON forms of one request are equal after validation', () => {
    const pdf = Buffer.from('%PDF-1.4 minta').toString('base64');
    const soap = validateSendRequest(
      {
        clientHashKey: 'k',
        recipientName: 'NAME',
        recipientEmailAddress: 'a@dbx.hu',
        messageType: 'TEST.MAIL',
        messageTypeVersion: '1',
        archivingExpected: 'false',
        attachments: [{ fileName: 'minta.pdf', content: `${pdf.slice(0, 8)}\r\n${pdf.slice(8)}`, archivingExpected: 'true', properties: [] }],
        properties: [{ key: 'P', value: 'v', isMetaData: 'false' }],
        params: [],
      },
      'EMAIL',
      LIMITS,
    );
    const json = validateSendRequest(
      {
        params: [],
        properties: [{ value: 'v', key: 'P' }],
        attachments: [{ archivingExpected: true, content: pdf, fileName: 'minta.pdf' }],
        archivingExpected: false,
        messageTypeVersion: 1,
        messageType: 'TEST.MAIL',
        recipientEmailAddress: 'a@dbx.hu',
        recipientName: 'NAME',
        clientHashKey: 'k',
      },
      'EMAIL',
      LIMITS,
    );
    assert.equal(payloadHash(soap), payloadHash(json));
    const other = validateSendRequest({ ...json, attachments: [{ fileName: 'minta.pdf', content: Buffer.from('other').toString('base64') }] }, 'EMAIL', LIMITS);
    assert.notEqual(payloadHash(other), payloadHash(json));
  });

  it('a spooled multipart part and the same bytes in base64 are equal (SPEC §6 across intakes)', () => {
    const bytes = Buffer.from('%PDF-1.4 minta');
    const spooled = new SpooledFile('/nowhere/part-1', bytes.length, createHash('sha256').update(bytes).digest('hex'), bytes.subarray(0, 1024));
    const base = { clientHashKey: 'k', recipientName: 'N', recipientEmailAddress: 'a@dbx.hu', mailSubject: 's', mailBody: 'b' };
    const soap = validateSendRequest({ ...base, attachments: [{ fileName: 'minta.pdf', content: bytes.toString('base64') }] }, 'EMAIL', LIMITS);
    const rest = validateSendRequest({ ...base, attachments: [{ fileName: 'minta.pdf', content: spooled, attachmentRef: undefined }] }, 'EMAIL', LIMITS);
    assert.equal(payloadHash(rest), payloadHash(soap));
    const other = new SpooledFile('/nowhere/part-1', bytes.length, createHash('sha256').update('x').digest('hex'), bytes);
    assert.notEqual(payloadHash({ ...rest, attachments: [{ ...rest.attachments[0], content: other }] }), payloadHash(soap));
  });

  it('a spooled file is hashed from its file only when asked (digest), and equals the same bytes in memory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spooled-'));
    const bytes = Buffer.alloc(200 * 1024, 9);
    fs.writeFileSync(path.join(dir, 'part-1'), bytes);
    const spooled = new SpooledFile(path.join(dir, 'part-1'), bytes.length, undefined, bytes.subarray(0, 1024));
    assert.throws(() => spooled.sha256, /asked before digest/);
    assert.equal(await spooled.digest(), createHash('sha256').update(bytes).digest('hex'));
    assert.equal(payloadHash({ content: spooled }), payloadHash({ content: bytes }));
    fs.rmSync(dir, { recursive: true });
  });

  it('a spooled file whose file is gone cannot be digested: the error is the file system\'s, and nothing is cached', async () => {
    const spooled = new SpooledFile(path.join(os.tmpdir(), `gone-${process.pid}-${Date.now()}`), 10, undefined, Buffer.alloc(0));
    await assert.rejects(spooled.digest(), (e) => (e as NodeJS.ErrnoException).code === 'ENOENT');
    assert.throws(() => spooled.sha256, /asked before digest/);
  });

  it('a spooled file is checked by its size and head, never read by validation', () => {
    const head = Buffer.from('PNG not a pdf');
    const big = new SpooledFile('/nowhere/never-read', 2048, 'x'.repeat(64), head);
    const base = { clientHashKey: 'k', recipientName: 'N', recipientEmailAddress: 'a@dbx.hu', mailSubject: 's', mailBody: 'b' };
    assert.throws(
      () => validateSendRequest({ ...base, attachments: [{ fileName: 'a.png', content: big }] }, 'EMAIL', LIMITS),
      (e: any) => e.status === 5 && /2048 bytes, over the limit of 1024/.test(e.issues[0].text),
    );
    const small = new SpooledFile('/nowhere/never-read', 10, 'x'.repeat(64), head);
    const req = validateSendRequest({ ...base, attachments: [{ fileName: 'a.png', content: small, certificationExpected: true }] }, 'EMAIL', LIMITS);
    assert.deepEqual(documentIssues(req, 'EMAIL').map((i) => i.field), ['attachments[0].certificationExpected']);
    const pdf = new SpooledFile('/nowhere/never-read', 10, 'x'.repeat(64), Buffer.from('%PDF-1.7'));
    assert.deepEqual(documentIssues({ ...req, attachments: [{ ...req.attachments[0]!, content: pdf }] }, 'EMAIL'), []);
  });

  it('a JSON object shaped like a spooled file is not one: only the intake can make a SpooledFile', () => {
    const base = { clientHashKey: 'k', recipientName: 'N', recipientEmailAddress: 'a@dbx.hu', mailSubject: 's', mailBody: 'b' };
    const forged = { path: '/etc/passwd', size: 1, sha256: 'x', head: 'root' };
    assert.throws(() => validateSendRequest({ ...base, attachments: [{ fileName: 'p', content: forged }] }, 'EMAIL', LIMITS), (e: any) => e.status === 1);
  });
});
