// The XML request codec: <sendMailRequest>/<resendMailRequest> text -> request (AMQP), element objects (SOAP), answers.
import assert from 'node:assert/strict';
import { SendError, ValidationError } from '../../src/core/errors.js';
import { readXmlRequest, sendInputFromXml, xmlAnswer } from '../../src/adapters/forms/xml-request.js';

const issueOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof SendError) return e.issues[0]!;
    throw e;
  }
  assert.fail('no refusal');
};

describe('XML request codec', () => {
  it('reads a send request with its lists unwrapped, empty elements not given, xmlData kept as XML text', () => {
    const input = readXmlRequest('<sendMailRequest><mailSubject>s</mailSubject><partnerRef/><params><param><key>K</key><value>v</value></param></params><xmlData><DATA><a>1</a></DATA></xmlData></sendMailRequest>', 'send');
    assert.deepEqual(input, { mailSubject: 's', xmlData: '<DATA><a>1</a></DATA>', attachments: undefined, properties: undefined, params: [{ key: 'K', value: 'v' }] });
    assert.deepEqual(sendInputFromXml({ attachments: { attachment: { fileName: 'f' } } }, undefined).attachments, [{ fileName: 'f', properties: undefined }]);
  });

  it('reads a resend by its own root, and names the root the method needs', () => {
    assert.deepEqual(readXmlRequest('<resendMailRequest><messageId>4</messageId></resendMailRequest>', 'resend'), { messageId: '4', params: undefined });
    assert.match(issueOf(() => readXmlRequest('<sendMailRequest/>', 'resend', 'Send_V2_Resend')).text, /<resendMailRequest> for Send_V2_Resend/);
  });

  it('refuses DOCTYPE and broken XML as code 1 on body', () => {
    assert.deepEqual(issueOf(() => readXmlRequest('<!DOCTYPE x [<!ENTITY e "x">]><sendMailRequest/>', 'send')), { code: 1, field: 'body', text: 'DOCTYPE and entity declarations are not allowed' });
    assert.match(issueOf(() => readXmlRequest('<sendMailRequest><a></sendMailRequest>', 'send')).text, /not well-formed XML \(line 1/);
  });

  it('answers sendMailResponse / resendMailResponse with the status and its messages', () => {
    assert.equal(xmlAnswer('send', { ok: true, answer: { messageId: 9, status: 0, params: [] } }), '<sendMailResponse><messageId>9</messageId><status><code>0</code><messages/></status></sendMailResponse>');
    const e = new ValidationError([{ code: 1, field: 'messageId', text: 'messageId is required', source: { field: 'messageId' } }]);
    assert.equal(xmlAnswer('resend', { ok: false, error: e }), '<resendMailResponse><status><code>1</code><messages><message><code>1</code><field>messageId</field><text>messageId is required</text></message></messages></status></resendMailResponse>');
  });
});
