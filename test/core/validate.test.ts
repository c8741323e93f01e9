// SendRequest validation (SPEC §1, §4 step 1, §7): every rule, every error path, no database, no network.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AttachmentError, SendError, ValidationError, type Issue } from '../../src/core/errors.js';
import { LETTER_TYPES, type ChannelName, type SendRequestInput } from '../../src/core/send-request.js';
import {
  attachmentIssues,
  channelIssues,
  decodeBase64,
  fieldName,
  resolveChannel,
  validateResendRequest,
  validateSendRequest,
  type Limits,
} from '../../src/core/validate.js';

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures');
const KEY = 'aa87cd4bcd3445bbc4';
const LIMITS: Limits = { maxAttachments: 3, maxAttachmentBytes: 16 };
const BIG_LIMITS: Limits = { maxAttachments: 10, maxAttachmentBytes: 10 * 1024 * 1024 };

/** A valid EMAIL request with direct subject and body, as in the Hammy sample 1. */
const email = (over: SendRequestInput = {}): SendRequestInput => ({
  clientHashKey: KEY,
  recipientName: 'NAME',
  recipientEmailAddress: 'emailaddress@dbx.hu',
  mailSubject: 'Teszt levél tárgy',
  mailBody: 'Teszt levél szöveg',
  ...over,
});
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const att = (over: Record<string, unknown> = {}) => ({ fileName: 'a.txt', content: b64('hello'), ...over });
/** An address of exactly n characters. */
const addressOfLength = (n: number) => `${'x'.repeat(n - 6)}@ex.hu`;

function refusal(input: SendRequestInput, channel: ChannelName = 'EMAIL', limits: Limits = LIMITS, extra: Issue[] = []): SendError {
  try {
    validateSendRequest(input, channel, limits, extra);
  } catch (e) {
    if (e instanceof SendError) return e;
    throw e;
  }
  return assert.fail(`expected the request to be refused: ${JSON.stringify(input).slice(0, 200)}`);
}
const issuesOf = (input: SendRequestInput, channel: ChannelName = 'EMAIL', limits: Limits = LIMITS) => refusal(input, channel, limits).issues;
const fields = (issues: Issue[]) => issues.map((i) => i.field).sort();

describe('validateSendRequest: valid requests (SPEC §1)', () => {
  it('accepts the minimal EMAIL request and fills the list defaults', () => {
    const r = validateSendRequest(email(), 'EMAIL', LIMITS);
    assert.equal(r.clientHashKey, KEY);
    assert.equal(r.recipientName, 'NAME');
    assert.equal(r.mailSubject, 'Teszt levél tárgy');
    assert.deepEqual(r.attachments, []);
    assert.deepEqual(r.properties, []);
    assert.deepEqual(r.params, []);
  });

  it('accepts a template request (messageType) without any direct content', () => {
    const r = validateSendRequest(email({ mailSubject: undefined, mailBody: undefined, messageType: 'TEST.MAIL', messageTypeVersion: '1' }), 'EMAIL', LIMITS);
    assert.equal(r.messageType, 'TEST.MAIL');
    assert.equal(r.messageTypeVersion, 1);
  });

  it('accepts mailHtmlBody alone as the body', () => {
    const r = validateSendRequest(email({ mailBody: undefined, mailHtmlBody: '<p>x</p>' }), 'EMAIL', LIMITS);
    assert.equal(r.mailHtmlBody, '<p>x</p>');
  });

  it('converts booleans given as true/false and as the strings "true"/"false"', () => {
    const r = validateSendRequest(
      email({
        archivingExpected: true,
        certificationExpected: 'false',
        replyEnvelopeAttached: 'true',
        paymentSlipAttached: false,
        properties: [
          { key: 'A', value: 'x', isMetaData: 'true' },
          { key: 'B', value: 'y', isMetaData: false },
          { key: 'C', value: 'z' },
        ],
        attachments: [att({ archivingExpected: 'true', certificationExpected: false, deleteSourceExpected: 'false', postableWithoutCertificate: true, contentAvailable: 'true' })],
      }),
      'EMAIL',
      LIMITS,
    );
    assert.equal(r.archivingExpected, true);
    assert.equal(r.certificationExpected, false);
    assert.equal(r.replyEnvelopeAttached, true);
    assert.equal(r.paymentSlipAttached, false);
    assert.deepEqual(r.properties, [
      { key: 'A', value: 'x', isMetaData: true },
      { key: 'B', value: 'y', isMetaData: false },
      { key: 'C', value: 'z', isMetaData: false },
    ]);
    const a = r.attachments[0]!;
    assert.equal(a.archivingExpected, true);
    assert.equal(a.certificationExpected, false);
    assert.equal(a.deleteSourceExpected, false);
    assert.equal(a.postableWithoutCertificate, true);
    assert.equal(a.contentAvailable, true);
  });

  it('converts integers given as numbers and as strings', () => {
    const r = validateSendRequest(
      email({ mailSubject: undefined, mailBody: undefined, messageType: 'TEST.MAIL', messageTypeVersion: '3', relatedMessageId: 42, campaignPartId: ' 7 ' }),
      'EMAIL',
      LIMITS,
    );
    assert.equal(r.messageTypeVersion, 3);
    assert.equal(r.relatedMessageId, 42);
    assert.equal(r.campaignPartId, 7);
  });

  it('turns property and param values into strings', () => {
    const r = validateSendRequest(email({ properties: [{ key: 'N', value: 12 }], params: [{ key: 'DRY_RUN', value: true }, { key: 'X' }] }), 'EMAIL', LIMITS);
    assert.deepEqual(r.properties, [{ key: 'N', value: '12', isMetaData: false }]);
    assert.deepEqual(r.params, [
      { key: 'DRY_RUN', value: 'true' },
      { key: 'X', value: '' },
    ]);
  });

  it('decodes base64 content into the exact bytes (the sample PDF)', () => {
    const pdf = fs.readFileSync(path.join(FIXTURES, 'files', 'minta.pdf'));
    const r = validateSendRequest(email({ attachments: [{ fileName: 'minta.pdf', content: pdf.toString('base64') }] }), 'EMAIL', BIG_LIMITS);
    const content = r.attachments[0]!.content;
    assert.ok(Buffer.isBuffer(content));
    assert.ok(content.equals(pdf));
  });

  it('accepts MIME-wrapped base64 (line breaks inside the text)', () => {
    const bytes = Buffer.from('0123456789abcdef0123456789abcdef0123456789');
    const wrapped = bytes.toString('base64').replace(/(.{16})/g, '$1\r\n');
    const r = validateSendRequest(email({ attachments: [att({ content: wrapped })] }), 'EMAIL', BIG_LIMITS);
    assert.ok((r.attachments[0]!.content as Buffer).equals(bytes));
  });

  it('keeps bytes that arrive already read (multipart) as they are', () => {
    const bytes = Buffer.from([0, 1, 2, 3, 255]);
    const r = validateSendRequest(email({ attachments: [{ fileName: 'b.bin', content: bytes }] }), 'EMAIL', LIMITS);
    assert.ok((r.attachments[0]!.content as Buffer).equals(bytes));
  });

  it('accepts a POST letter: postal address and letterType, no e-mail address and no subject needed', () => {
    const r = validateSendRequest(
      { clientHashKey: KEY, recipientName: 'NAME', recipientPostalAddress: 'Fő utca 1.\n1011 Budapest', letterType: 'REGISTERED', mailBody: 'levél' },
      'POST',
      LIMITS,
    );
    assert.equal(r.letterType, 'REGISTERED');
    assert.equal(r.recipientPostalAddress, 'Fő utca 1.\n1011 Budapest');
  });

  it('accepts a PORTAL message with partnerRef and an e-mail for the notice', () => {
    const r = validateSendRequest(email({ channel: 'PORTAL', partnerRef: 'partner1234' }), 'PORTAL', LIMITS);
    assert.equal(r.channel, 'PORTAL');
    assert.equal(r.partnerRef, 'partner1234');
  });

  it('accepts an ARCHIVE entry with one attachment and no subject or body', () => {
    const r = validateSendRequest({ clientHashKey: KEY, recipientName: 'NAME', channel: 'ARCHIVE', attachments: [att()] }, 'ARCHIVE', LIMITS);
    assert.equal(r.attachments.length, 1);
    assert.equal(r.mailSubject, undefined);
  });
});

describe('validateSendRequest: required fields per channel', () => {
  const RECIPIENT_NAME: Issue = { code: 1, field: 'recipientName', text: 'recipientName is required for every channel' };

  for (const channel of ['EMAIL', 'POST', 'PORTAL', 'ARCHIVE'] as const) {
    it(`recipientName is required for ${channel}`, () => {
      const input = {
        ...email({ recipientName: undefined, partnerRef: 'p1', recipientPostalAddress: 'Fő utca 1.', letterType: 'NORMAL', attachments: [att()] }),
        channel,
      };
      if (channel === 'ARCHIVE') {
        delete input.mailSubject;
        delete input.mailBody;
      }
      assert.deepEqual(issuesOf(input, channel), [RECIPIENT_NAME]);
    });
  }

  it('a blank recipientName counts as missing', () => {
    assert.deepEqual(issuesOf(email({ recipientName: '   ' })), [RECIPIENT_NAME]);
  });

  it('EMAIL needs recipientEmailAddress', () => {
    assert.deepEqual(issuesOf(email({ recipientEmailAddress: undefined })), [
      { code: 1, field: 'recipientEmailAddress', text: 'recipientEmailAddress is required for channel EMAIL' },
    ]);
  });

  it('PORTAL needs recipientEmailAddress and partnerRef', () => {
    assert.deepEqual(issuesOf(email({ recipientEmailAddress: undefined, channel: 'PORTAL' }), 'PORTAL'), [
      { code: 1, field: 'recipientEmailAddress', text: 'recipientEmailAddress is required for channel PORTAL' },
      { code: 1, field: 'partnerRef', text: 'partnerRef is required for channel PORTAL (it is the recipient id)' },
    ]);
  });

  it('POST needs recipientPostalAddress and letterType, not an e-mail address', () => {
    const e = refusal({ clientHashKey: KEY, recipientName: 'NAME', mailBody: 'levél', channel: 'POST' }, 'POST');
    assert.ok(e instanceof ValidationError);
    assert.equal(e.status, 1);
    assert.deepEqual(e.issues, [
      { code: 1, field: 'recipientPostalAddress', text: 'recipientPostalAddress is required for channel POST' },
      { code: 1, field: 'letterType', text: 'letterType is required for channel POST' },
    ]);
  });

  it('ARCHIVE needs at least one attachment (absent or empty list)', () => {
    const expected: Issue[] = [{ code: 1, field: 'attachments', text: 'attachments must hold at least one file for channel ARCHIVE' }];
    assert.deepEqual(issuesOf({ clientHashKey: KEY, recipientName: 'NAME', channel: 'ARCHIVE' }, 'ARCHIVE'), expected);
    assert.deepEqual(issuesOf({ clientHashKey: KEY, recipientName: 'NAME', channel: 'ARCHIVE', attachments: [] }, 'ARCHIVE'), expected);
  });

  it('clientHashKey is required', () => {
    assert.deepEqual(issuesOf(email({ clientHashKey: undefined })), [{ code: 1, field: 'clientHashKey', text: 'clientHashKey is required' }]);
    assert.deepEqual(issuesOf(email({ clientHashKey: '' })), [{ code: 1, field: 'clientHashKey', text: 'clientHashKey is required' }]);
  });

  it('without messageType, an e-mail needs a subject and a body', () => {
    assert.deepEqual(issuesOf(email({ mailSubject: undefined, mailBody: undefined })), [
      { code: 1, field: 'mailSubject', text: 'mailSubject is required when no messageType is given' },
      { code: 1, field: 'mailBody', text: 'mailBody or mailHtmlBody is required when no messageType is given' },
    ]);
  });

  it('without messageType, a POST letter needs a body but no subject', () => {
    assert.deepEqual(
      issuesOf({ clientHashKey: KEY, recipientName: 'NAME', recipientPostalAddress: 'Fő utca 1.', letterType: 'NORMAL' }, 'POST'),
      [{ code: 1, field: 'mailBody', text: 'mailBody or mailHtmlBody is required when no messageType is given' }],
    );
  });
});

describe('validateSendRequest: messageType versus direct content', () => {
  it('refuses mailSubject, mailBody and mailHtmlBody together with messageType, each by name', () => {
    const e = refusal(email({ messageType: 'TEST.MAIL', mailHtmlBody: '<p>x</p>' }));
    assert.deepEqual(e.issues, [
      { code: 1, field: 'mailSubject', text: 'mailSubject must not be given together with messageType' },
      { code: 1, field: 'mailBody', text: 'mailBody must not be given together with messageType' },
      { code: 1, field: 'mailHtmlBody', text: 'mailHtmlBody must not be given together with messageType' },
    ]);
  });

  it('refuses one direct field with messageType', () => {
    assert.deepEqual(issuesOf(email({ messageType: 'TEST.MAIL', mailSubject: undefined })), [
      { code: 1, field: 'mailBody', text: 'mailBody must not be given together with messageType' },
    ]);
  });

  it('refuses messageTypeVersion without messageType', () => {
    assert.deepEqual(issuesOf(email({ messageTypeVersion: 2 })), [
      { code: 1, field: 'messageTypeVersion', text: 'messageTypeVersion needs a messageType' },
    ]);
  });
});

describe('validateSendRequest: maximum lengths (accepted at the limit, refused one over, never cut)', () => {
  const template = { mailSubject: undefined, mailBody: undefined };
  const cases: Array<{ field: string; max: number; value: (n: number) => string; base?: SendRequestInput }> = [
    { field: 'clientHashKey', max: 100, value: (n) => 'k'.repeat(n) },
    { field: 'requestId', max: 150, value: (n) => 'r'.repeat(n) },
    { field: 'batchId', max: 100, value: (n) => 'b'.repeat(n) },
    { field: 'partnerRef', max: 100, value: (n) => 'p'.repeat(n) },
    { field: 'messageType', max: 100, value: (n) => 'T'.repeat(n), base: template },
    { field: 'mailSubject', max: 600, value: (n) => 'á'.repeat(n) },
    { field: 'recipientPostalAddress', max: 255, value: (n) => 'a'.repeat(n) },
    { field: 'recipientName', max: 100, value: (n) => 'Ő'.repeat(n) },
    { field: 'recipientNameCC', max: 100, value: (n) => 'n'.repeat(n) },
    { field: 'replyToName', max: 100, value: (n) => 'n'.repeat(n) },
    { field: 'fromName', max: 100, value: (n) => 'n'.repeat(n) },
    { field: 'userName', max: 100, value: (n) => 'u'.repeat(n) },
    { field: 'recipientEmailAddress', max: 100, value: addressOfLength },
    { field: 'recipientEmailAddressCC', max: 100, value: addressOfLength },
    { field: 'replyToAddress', max: 100, value: addressOfLength },
    { field: 'fromAddress', max: 100, value: addressOfLength },
    { field: 'bccAddress', max: 150, value: addressOfLength },
  ];
  for (const c of cases) {
    it(`${c.field}: ${c.max} accepted as is, ${c.max + 1} refused`, () => {
      const atLimit = c.value(c.max);
      assert.equal(atLimit.length, c.max);
      const r = validateSendRequest(email({ ...c.base, [c.field]: atLimit }), 'EMAIL', LIMITS) as Record<string, unknown>;
      assert.equal(r[c.field], atLimit, 'kept whole');
      const over = c.value(c.max + 1);
      assert.equal(over.length, c.max + 1);
      const e = refusal(email({ ...c.base, [c.field]: over }));
      assert.ok(e instanceof ValidationError);
      assert.equal(e.status, 1);
      assert.deepEqual(e.issues, [{ code: 1, field: c.field, text: `${c.field} must be at most ${c.max} characters` }]);
    });
  }

  it('bccAddress of 150 characters as a ;-list is accepted', () => {
    const list = [addressOfLength(74), addressOfLength(75)].join(';');
    assert.equal(list.length, 150);
    assert.equal(validateSendRequest(email({ bccAddress: list }), 'EMAIL', LIMITS).bccAddress, list);
  });

  it('attachment fileName: 255 accepted, 256 refused', () => {
    const name = (n: number) => `${'f'.repeat(n - 4)}.pdf`;
    assert.equal(validateSendRequest(email({ attachments: [att({ fileName: name(255) })] }), 'EMAIL', LIMITS).attachments[0]!.fileName, name(255));
    assert.deepEqual(issuesOf(email({ attachments: [att({ fileName: name(256) })] })), [
      { code: 1, field: 'attachments[0].fileName', text: 'attachments[0].fileName must be at most 255 characters' },
    ]);
  });
});

describe('validateSendRequest: booleans', () => {
  for (const field of ['archivingExpected', 'certificationExpected', 'replyEnvelopeAttached', 'paymentSlipAttached']) {
    it(`${field}: "yes" is refused`, () => {
      assert.deepEqual(issuesOf(email({ [field]: 'yes' })), [{ code: 1, field, text: `${field} must be true or false` }]);
    });
  }

  it('1 and "TRUE " are not booleans either', () => {
    assert.deepEqual(issuesOf(email({ archivingExpected: 1 })), [
      { code: 1, field: 'archivingExpected', text: 'archivingExpected must be true or false' },
    ]);
    assert.deepEqual(issuesOf(email({ archivingExpected: 'TRUE ' })), [
      { code: 1, field: 'archivingExpected', text: 'archivingExpected must be true or false' },
    ]);
  });

  it('an attachment flag and a property isMetaData "yes" are refused with their path', () => {
    assert.deepEqual(issuesOf(email({ attachments: [att({ archivingExpected: 'yes' })], properties: [{ key: 'A', value: 'x', isMetaData: 'yes' }] })), [
      { code: 1, field: 'attachments[0].archivingExpected', text: 'attachments[0].archivingExpected must be true or false' },
      { code: 1, field: 'properties[0].isMetaData', text: 'properties[0].isMetaData must be true or false' },
    ]);
  });
});

describe('validateSendRequest: enumerations', () => {
  it('channel must be one of EMAIL, POST, PORTAL, ARCHIVE', () => {
    assert.deepEqual(issuesOf(email({ channel: 'FAX' })), [
      { code: 1, field: 'channel', text: 'channel must be one of EMAIL, POST, PORTAL, ARCHIVE' },
    ]);
  });

  it('letterType must be one of the five service classes', () => {
    assert.deepEqual(issuesOf(email({ letterType: 'EXPRESS' })), [
      { code: 1, field: 'letterType', text: 'letterType must be one of NORMAL, PRIORITY, REGISTERED, REGISTERED_RETURN_RECEIPT, OFFICIAL' },
    ]);
  });

  it('accepts every letterType for POST', () => {
    assert.deepEqual([...LETTER_TYPES], ['NORMAL', 'PRIORITY', 'REGISTERED', 'REGISTERED_RETURN_RECEIPT', 'OFFICIAL']);
    for (const letterType of LETTER_TYPES) {
      const r = validateSendRequest({ clientHashKey: KEY, recipientName: 'N', recipientPostalAddress: 'Fő utca 1.', letterType, mailBody: 'x' }, 'POST', LIMITS);
      assert.equal(r.letterType, letterType);
    }
  });
});

describe('validateSendRequest: integers', () => {
  const tpl = (v: unknown) => email({ mailSubject: undefined, mailBody: undefined, messageType: 'TEST.MAIL', messageTypeVersion: v });
  const bad = (text: string): Issue[] => [{ code: 1, field: 'messageTypeVersion', text: `messageTypeVersion ${text}` }];

  it('"abc" is not an integer', () => assert.deepEqual(issuesOf(tpl('abc')), bad('must be an integer')));
  it('"2.5" is not an integer', () => assert.deepEqual(issuesOf(tpl('2.5')), bad('must be an integer')));
  it('2.5 as a number is not an integer (and the field is not reported as missing)', () => assert.deepEqual(issuesOf(tpl(2.5)), bad('must be an integer')));
  it('"0" is refused: versions start at 1', () => assert.deepEqual(issuesOf(tpl('0')), bad('must be a positive integer')));
  it('"-1" is refused', () => assert.deepEqual(issuesOf(tpl('-1')), bad('must be a positive integer')));
  it('true is not an integer', () => assert.deepEqual(issuesOf(tpl(true)), bad('must be an integer')));
  it('"3" as a string is 3', () => assert.equal(validateSendRequest(tpl('3'), 'EMAIL', LIMITS).messageTypeVersion, 3));
  it('a version beyond the template version column (int4) is refused', () => {
    assert.equal(validateSendRequest(tpl(2147483647), 'EMAIL', LIMITS).messageTypeVersion, 2147483647);
    assert.deepEqual(issuesOf(tpl('2147483648')), bad('is too large'));
  });
  it('relatedMessageId and campaignPartId are checked the same way', () => {
    assert.deepEqual(issuesOf(email({ relatedMessageId: 'x1', campaignPartId: '0' })), [
      { code: 1, field: 'relatedMessageId', text: 'relatedMessageId must be an integer' },
      { code: 1, field: 'campaignPartId', text: 'campaignPartId must be a positive integer' },
    ]);
  });
});

describe('validateSendRequest: e-mail addresses', () => {
  for (const field of ['recipientEmailAddress', 'replyToAddress', 'fromAddress']) {
    for (const bad of ['not-an-address', 'a@b', 'a b@dbx.hu', 'a@@dbx.hu', 'a@dbx.hu;b@dbx.hu', 'NAME <a@dbx.hu>']) {
      it(`${field}: ${JSON.stringify(bad)} is refused`, () => {
        assert.deepEqual(issuesOf(email({ [field]: bad })), [{ code: 1, field, text: `${field} must be an e-mail address` }]);
      });
    }
  }

  it('surrounding blanks of a single address are tolerated', () => {
    assert.equal(validateSendRequest(email({ recipientEmailAddress: ' emailaddress@dbx.hu ' }), 'EMAIL', LIMITS).recipientEmailAddress, ' emailaddress@dbx.hu ');
  });

  for (const field of ['recipientEmailAddressCC', 'bccAddress']) {
    it(`${field}: one address and a ;-list are accepted`, () => {
      for (const ok of ['cc_email_address@dbx.hu', 'a@dbx.hu;b@dbx.hu', 'a@dbx.hu; b@dbx.hu;', 'a@dbx.hu,b@dbx.hu']) {
        assert.equal((validateSendRequest(email({ [field]: ok }), 'EMAIL', LIMITS) as Record<string, unknown>)[field], ok);
      }
    });
    it(`${field}: a list with one bad address is refused`, () => {
      for (const bad of ['a@dbx.hu;nope', 'nope', 'a@dbx.hu b@dbx.hu']) {
        assert.deepEqual(issuesOf(email({ [field]: bad })), [{ code: 1, field, text: `${field} must be e-mail addresses separated by ;` }]);
      }
    });
  }
});

describe('validateSendRequest: line breaks in header-bound fields', () => {
  const injected = 'x\r\nBcc: victim@evil.example';
  for (const field of ['mailSubject', 'recipientName', 'recipientNameCC', 'fromName', 'replyToName', 'userName']) {
    it(`${field} with CR/LF is refused`, () => {
      assert.deepEqual(issuesOf(email({ [field]: injected })), [{ code: 1, field, text: `${field} must not contain line breaks` }]);
    });
  }

  it('a lone LF and a lone CR are refused too', () => {
    const expected: Issue[] = [{ code: 1, field: 'mailSubject', text: 'mailSubject must not contain line breaks' }];
    assert.deepEqual(issuesOf(email({ mailSubject: 'a\nb' })), expected);
    assert.deepEqual(issuesOf(email({ mailSubject: 'a\rb' })), expected);
  });

  it('an address with CR/LF is refused', () => {
    const issues = issuesOf(email({ recipientEmailAddress: 'a@dbx.hu\r\nBcc: victim@evil.example' }));
    assert.deepEqual(fields(issues), ['recipientEmailAddress', 'recipientEmailAddress']);
    assert.ok(issues.some((i) => i.text === 'recipientEmailAddress must not contain line breaks'));
  });

  it('attachment fileName and internalFileName with line breaks are refused', () => {
    assert.deepEqual(issuesOf(email({ attachments: [att({ fileName: 'a.pdf\r\nX-Evil: 1', internalFileName: 'b\n.pdf' })] })), [
      { code: 1, field: 'attachments[0].fileName', text: 'attachments[0].fileName must not contain line breaks' },
      { code: 1, field: 'attachments[0].internalFileName', text: 'attachments[0].internalFileName must not contain line breaks' },
    ]);
  });

  it('bodies and the postal address may hold line breaks', () => {
    const r = validateSendRequest(
      email({ mailBody: 'line 1\r\nline 2', mailHtmlBody: '<p>\n</p>', recipientPostalAddress: 'Fő utca 1.\n1011 Budapest' }),
      'EMAIL',
      LIMITS,
    );
    assert.equal(r.mailBody, 'line 1\r\nline 2');
    assert.equal(r.recipientPostalAddress, 'Fő utca 1.\n1011 Budapest');
  });
});

describe('validateSendRequest: attachments (code 5)', () => {
  function attachmentRefusal(input: SendRequestInput, limits = LIMITS): AttachmentError {
    const e = refusal(input, 'EMAIL', limits);
    assert.ok(e instanceof AttachmentError, `expected AttachmentError, got ${e.constructor.name}: ${JSON.stringify(e.issues)}`);
    assert.equal(e.status, 5);
    return e;
  }

  it('accepts as many attachments as the limit allows', () => {
    assert.equal(validateSendRequest(email({ attachments: [att(), att(), att()] }), 'EMAIL', LIMITS).attachments.length, 3);
  });

  it('refuses one attachment over the count limit', () => {
    const e = attachmentRefusal(email({ attachments: [att(), att(), att(), att()] }));
    assert.deepEqual(e.issues, [{ code: 5, field: 'attachments', text: 'at most 3 attachments are allowed, got 4', limit: 3 }]);
  });

  it('the count limit comes from the limits given (0 = no attachments at all)', () => {
    const e = attachmentRefusal(email({ attachments: [att()] }), { maxAttachments: 0, maxAttachmentBytes: 16 });
    assert.deepEqual(e.issues, [{ code: 5, field: 'attachments', text: 'at most 0 attachments are allowed, got 1', limit: 0 }]);
  });

  it('accepts an attachment exactly at the size limit and refuses one byte more', () => {
    const r = validateSendRequest(email({ attachments: [att({ content: b64('x'.repeat(16)) })] }), 'EMAIL', LIMITS);
    assert.equal((r.attachments[0]!.content as Buffer).length, 16);
    const e = attachmentRefusal(email({ attachments: [att(), att({ fileName: 'big.bin', content: b64('x'.repeat(17)) })] }));
    assert.deepEqual(e.issues, [{ code: 5, field: 'attachments[1].content', text: 'attachments[1] (big.bin) is 17 bytes, over the limit of 16', limit: 16 }]);
  });

  it('the size limit applies to bytes already read (multipart) too', () => {
    const e = attachmentRefusal(email({ attachments: [{ fileName: 'm.bin', content: Buffer.alloc(17) }] }));
    assert.deepEqual(e.issues, [{ code: 5, field: 'attachments[0].content', text: 'attachments[0] (m.bin) is 17 bytes, over the limit of 16', limit: 16 }]);
  });

  for (const bad of ['!!!notbase64!!!', 'QUJD=', 'QQ==QQ==', 'data:application/pdf;base64,QUJD']) {
    it(`refuses content that is not base64: ${JSON.stringify(bad)}`, () => {
      const e = attachmentRefusal(email({ attachments: [att({ content: bad })] }));
      assert.deepEqual(e.issues, [{ code: 5, field: 'attachments[0].content', text: 'attachments[0].content is not valid base64' }]);
    });
  }

  it('refuses an INLINE attachment without content (default source and explicit INLINE)', () => {
    const e = attachmentRefusal(
      email({ attachments: [{ fileName: 'a.pdf' }, { fileName: 'b.pdf', properties: [{ key: 'ATTACHMENT_SOURCE', value: 'INLINE' }] }] }),
    );
    assert.deepEqual(e.issues, [
      { code: 5, field: 'attachments[0].content', text: 'attachments[0].content is required for an INLINE attachment' },
      { code: 5, field: 'attachments[1].content', text: 'attachments[1].content is required for an INLINE attachment' },
    ]);
  });

  it('refuses ATTACHMENT_SOURCE FS without RELATIVE_FILE_PATH (absent or empty)', () => {
    const e = attachmentRefusal(
      email({
        attachments: [
          { fileName: 'a.pdf', properties: [{ key: 'ATTACHMENT_SOURCE', value: 'FS' }] },
          { fileName: 'b.pdf', properties: [{ key: 'ATTACHMENT_SOURCE', value: 'FS' }, { key: 'RELATIVE_FILE_PATH', value: '' }] },
        ],
      }),
    );
    assert.deepEqual(e.issues, [
      { code: 5, field: 'attachments[0].properties.RELATIVE_FILE_PATH', text: 'attachments[0] has ATTACHMENT_SOURCE FS but no RELATIVE_FILE_PATH' },
      { code: 5, field: 'attachments[1].properties.RELATIVE_FILE_PATH', text: 'attachments[1] has ATTACHMENT_SOURCE FS but no RELATIVE_FILE_PATH' },
    ]);
  });

  it('accepts ATTACHMENT_SOURCE FS (any case) with a path and no content: the bytes are read later', () => {
    const r = validateSendRequest(
      email({ attachments: [{ fileName: 'a.pdf', properties: [{ key: 'ATTACHMENT_SOURCE', value: 'fs' }, { key: 'RELATIVE_FILE_PATH', value: 'in/a.pdf' }] }] }),
      'EMAIL',
      LIMITS,
    );
    assert.equal(r.attachments[0]!.content, undefined);
  });

  it('refuses an unknown ATTACHMENT_SOURCE', () => {
    const e = attachmentRefusal(email({ attachments: [att({ properties: [{ key: 'ATTACHMENT_SOURCE', value: 'ftp' }] })] }));
    assert.deepEqual(e.issues, [{ code: 5, field: 'attachments[0].properties.ATTACHMENT_SOURCE', text: 'ATTACHMENT_SOURCE must be INLINE or FS, got FTP' }]);
  });

  it('a missing fileName is a schema error (code 1), not an attachment error', () => {
    const e = refusal(email({ attachments: [{ content: b64('x') }] }));
    assert.ok(e instanceof ValidationError);
    assert.deepEqual(e.issues, [{ code: 1, field: 'attachments[0].fileName', text: 'attachments[0].fileName is required' }]);
  });

  it('several attachment problems together are one AttachmentError with status 5', () => {
    const e = attachmentRefusal(
      email({ attachments: [att({ content: '%%%' }), { fileName: 'n.pdf' }, att({ content: b64('y'.repeat(20)) }), att()] }),
    );
    assert.deepEqual(
      e.issues.map((i) => [i.code, i.field]),
      [
        [5, 'attachments'],
        [5, 'attachments[0].content'],
        [5, 'attachments[1].content'],
        [5, 'attachments[2].content'],
      ],
    );
  });
});

describe('validateSendRequest: every violation at once', () => {
  it('reports all schema and channel violations in one ValidationError', () => {
    const e = refusal({
      clientHashKey: KEY,
      requestId: 'r'.repeat(151),
      recipientEmailAddress: 'nope',
      mailSubject: 'a\nb',
      archivingExpected: 'yes',
      letterType: 'FAST',
      messageTypeVersion: 'abc',
    });
    assert.ok(e instanceof ValidationError);
    assert.equal(e.status, 1);
    assert.deepEqual(e.issues, [
      { code: 1, field: 'requestId', text: 'requestId must be at most 150 characters' },
      { code: 1, field: 'messageTypeVersion', text: 'messageTypeVersion must be an integer' },
      { code: 1, field: 'mailSubject', text: 'mailSubject must not contain line breaks' },
      { code: 1, field: 'recipientEmailAddress', text: 'recipientEmailAddress must be an e-mail address' },
      { code: 1, field: 'archivingExpected', text: 'archivingExpected must be true or false' },
      { code: 1, field: 'letterType', text: 'letterType must be one of NORMAL, PRIORITY, REGISTERED, REGISTERED_RETURN_RECEIPT, OFFICIAL' },
      { code: 1, field: 'recipientName', text: 'recipientName is required for every channel' },
      { code: 1, field: 'mailBody', text: 'mailBody or mailHtmlBody is required when no messageType is given' },
      { code: 1, field: 'messageTypeVersion', text: 'messageTypeVersion needs a messageType' },
    ]);
  });

  it('mixed channel and attachment issues are a ValidationError with status 1 holding both codes', () => {
    const e = refusal(email({ recipientName: undefined, attachments: [att({ content: b64('z'.repeat(17)) })] }));
    assert.ok(e instanceof ValidationError);
    assert.ok(!(e instanceof AttachmentError));
    assert.equal(e.status, 1);
    assert.deepEqual(e.issues, [
      { code: 1, field: 'recipientName', text: 'recipientName is required for every channel' },
      { code: 5, field: 'attachments[0].content', text: 'attachments[0] (a.txt) is 17 bytes, over the limit of 16', limit: 16 },
    ]);
  });

  it('attachment issues are reported even when the schema refused another field', () => {
    const e = refusal(email({ requestId: 'r'.repeat(151), attachments: [att(), att({ content: 'not base64!' }), att(), att()] }));
    assert.equal(e.status, 1);
    assert.deepEqual(e.issues, [
      { code: 1, field: 'requestId', text: 'requestId must be at most 150 characters' },
      { code: 5, field: 'attachments', text: 'at most 3 attachments are allowed, got 4', limit: 3 },
      { code: 5, field: 'attachments[1].content', text: 'attachments[1].content is not valid base64' },
    ]);
  });

  it('adds the issues found by look-ups (extra); one kind answers its own code', () => {
    const unknown: Issue = { code: 3, field: 'messageType', text: 'unknown messageType NOPE' };
    const tpl = email({ mailSubject: undefined, mailBody: undefined, messageType: 'NOPE' });
    const alone = refusal(tpl, 'EMAIL', LIMITS, [unknown]);
    assert.ok(alone instanceof ValidationError);
    assert.equal(alone.status, 3);
    assert.deepEqual(alone.issues, [unknown]);
    const mixed = refusal({ ...tpl, recipientName: undefined }, 'EMAIL', LIMITS, [unknown]);
    assert.equal(mixed.status, 1);
    assert.deepEqual(mixed.issues, [{ code: 1, field: 'recipientName', text: 'recipientName is required for every channel' }, unknown]);
  });

  it('the same issue found twice is reported once', () => {
    const dup: Issue = { code: 1, field: 'recipientName', text: 'recipientName is required for every channel' };
    assert.deepEqual(refusal(email({ recipientName: undefined }), 'EMAIL', LIMITS, [dup]).issues, [dup]);
  });

  it('a field of the wrong type is reported as invalid, not as missing', () => {
    assert.deepEqual(issuesOf(email({ recipientName: 42, attachments: 'x' })), [
      { code: 1, field: 'recipientName', text: 'recipientName must be a string' },
      { code: 1, field: 'attachments', text: 'attachments Invalid input: expected array, received string' },
    ]);
  });
});

describe('channelIssues, attachmentIssues and resolveChannel', () => {
  it('channelIssues of a complete request is empty', () => {
    assert.deepEqual(channelIssues(email(), 'EMAIL'), []);
    assert.deepEqual(channelIssues(email({ partnerRef: 'p' }), 'PORTAL'), []);
  });

  it('channelIssues depends on the channel it is given, not on the request field', () => {
    assert.deepEqual(channelIssues(email({ channel: 'EMAIL' }), 'POST'), [
      { code: 1, field: 'recipientPostalAddress', text: 'recipientPostalAddress is required for channel POST' },
      { code: 1, field: 'letterType', text: 'letterType is required for channel POST' },
    ]);
  });

  it('attachmentIssues decodes base64 in place', () => {
    const req = { attachments: [{ fileName: 'a', content: b64('abc'), properties: [] }] };
    assert.deepEqual(attachmentIssues(req, LIMITS), []);
    assert.ok(Buffer.from('abc').equals(req.attachments[0]!.content as unknown as Buffer));
  });

  it('resolveChannel: the request, else the template, else EMAIL', () => {
    assert.equal(resolveChannel({ channel: 'POST' }, 'PORTAL'), 'POST');
    assert.equal(resolveChannel({}, 'PORTAL'), 'PORTAL');
    assert.equal(resolveChannel({}), 'EMAIL');
    assert.equal(resolveChannel({ channel: 'FAX' }, 'ARCHIVE'), 'ARCHIVE');
  });

  it('fieldName writes zod paths as callers see them', () => {
    assert.equal(fieldName(['attachments', 0, 'fileName']), 'attachments[0].fileName');
    assert.equal(fieldName(['properties', 2, 'isMetaData']), 'properties[2].isMetaData');
    assert.equal(fieldName(['requestId']), 'requestId');
    assert.equal(fieldName([]), '');
  });

  it('decodeBase64 is strict', () => {
    assert.deepEqual(decodeBase64('QUJD'), Buffer.from('ABC'));
    assert.deepEqual(decodeBase64('QUI='), Buffer.from('AB'));
    assert.deepEqual(decodeBase64('QU\r\nJD'), Buffer.from('ABC'));
    assert.deepEqual(decodeBase64(''), Buffer.alloc(0));
    assert.equal(decodeBase64('QUJD*'), undefined);
    assert.equal(decodeBase64('Q'), undefined);
    assert.equal(decodeBase64('QU=I'), undefined);
  });
});

describe('validateResendRequest', () => {
  const refuse = (input: SendRequestInput) => {
    try {
      validateResendRequest(input);
    } catch (e) {
      assert.ok(e instanceof ValidationError);
      return e;
    }
    return assert.fail('expected the resend request to be refused');
  };

  it('accepts clientHashKey and messageId (a string is converted)', () => {
    const r = validateResendRequest({ clientHashKey: KEY, messageId: '12' });
    assert.equal(r.messageId, 12);
    assert.deepEqual(r.params, []);
  });

  it('keeps the optional corrected address, requestId and userName', () => {
    const r = validateResendRequest({ clientHashKey: KEY, messageId: 5, requestId: 'r1', userName: 'jani', recipientEmailAddress: 'new@dbx.hu' });
    assert.deepEqual({ ...r }, { clientHashKey: KEY, messageId: 5, requestId: 'r1', userName: 'jani', recipientEmailAddress: 'new@dbx.hu', params: [] });
  });

  it('reports a missing clientHashKey and messageId together, as missing', () => {
    const e = refuse({});
    assert.equal(e.status, 1);
    assert.deepEqual(e.issues, [
      { code: 1, field: 'clientHashKey', text: 'clientHashKey is required' },
      { code: 1, field: 'messageId', text: 'messageId is required' },
    ]);
  });

  it('messageId must be a positive integer', () => {
    assert.deepEqual(refuse({ clientHashKey: KEY, messageId: 'abc' }).issues, [{ code: 1, field: 'messageId', text: 'messageId must be an integer' }]);
    assert.deepEqual(refuse({ clientHashKey: KEY, messageId: '0' }).issues, [{ code: 1, field: 'messageId', text: 'messageId must be a positive integer' }]);
  });

  it('checks the corrected address, userName and requestId', () => {
    const e = refuse({ clientHashKey: KEY, messageId: 1, recipientEmailAddress: 'nope', userName: 'a\r\nb', requestId: 'r'.repeat(151) });
    assert.deepEqual(e.issues, [
      { code: 1, field: 'requestId', text: 'requestId must be at most 150 characters' },
      { code: 1, field: 'userName', text: 'userName must not contain line breaks' },
      { code: 1, field: 'recipientEmailAddress', text: 'recipientEmailAddress must be an e-mail address' },
    ]);
  });
});
