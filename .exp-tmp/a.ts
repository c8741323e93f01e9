import { validateSendRequest, validateResendRequest } from '/work/main/src/core/validate.ts';
const L = { maxAttachments: 2, maxAttachmentBytes: 10 };
const base = { clientHashKey: 'k', recipientName: 'N', recipientEmailAddress: 'a@b.hu', mailSubject: 's', mailBody: 'b' };
function t(label: string, input: any, ch: any = 'EMAIL') {
  try { const r = validateSendRequest(input, ch, L); console.log(label, 'OK', JSON.stringify(r).slice(0, 200)); }
  catch (e: any) { console.log(label, e.constructor.name, e.status, JSON.stringify(e.issues)); }
}
t('missing all', {});
t('mtv abc', { ...base, messageType: 'X', mailSubject: undefined, mailBody: undefined, messageTypeVersion: 'abc' });
t('mtv 2.5', { ...base, messageType: 'X', mailSubject: undefined, mailBody: undefined, messageTypeVersion: '2.5' });
t('mtv 0', { ...base, messageType: 'X', mailSubject: undefined, mailBody: undefined, messageTypeVersion: '0' });
t('mtv 2.5n', { ...base, messageType: 'X', mailSubject: undefined, mailBody: undefined, messageTypeVersion: 2.5 });
t('mtv big', { ...base, messageType: 'X', mailSubject: undefined, mailBody: undefined, messageTypeVersion: '99999999999999999999' });
t('bool yes', { ...base, archivingExpected: 'yes' });
t('chan', { ...base, channel: 'FAX' });
t('lt', { ...base, letterType: 'FAST' });
t('subj 601', { ...base, mailSubject: 'x'.repeat(601) });
t('email long bad', { ...base, recipientEmailAddress: 'x'.repeat(101) });
t('subject crlf', { ...base, mailSubject: 'a\r\nBcc: x@y.hu' });
t('num as name', { ...base, recipientName: 5 });
t('bad b64 + long reqid', { ...base, requestId: 'x'.repeat(151), attachments: [{ fileName: 'a', content: '!!!' }] });
t('empty content', { ...base, attachments: [{ fileName: 'a', content: '' }] });
t('attachments not array', { ...base, attachments: 'x' });
t('attachment no fileName', { ...base, attachments: [{ content: 'QQ==' }] });
try { validateResendRequest({}); } catch (e: any) { console.log('resend', e.status, JSON.stringify(e.issues)); }
