// The request fingerprint of SPEC §6: equal for equal requests whatever their form, different when content differs.
import assert from 'node:assert/strict';
import { payloadHash } from '../../src/core/payload-hash.js';
import { validateSendRequest } from '../../src/core/validate.js';

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
});
