// Delivery through real SMTP: 4xx and dropped connections are retried and delivered once, 5xx is FAILED at once.
import assert from 'node:assert/strict';
import { startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

const send = (gw: TestGateway, to: string, subject: string, extra: Record<string, string> = {}) =>
  postSoap(
    gw.url,
    envelope('sendMail', { clientHashKey: 'aa87cd4bcd3445bbc4', recipientEmailAddress: to, recipientName: 'R', mailSubject: subject, mailBody: 'b', ...extra }),
  );

describe('EMAIL delivery with retries (SPEC §4 step 6-7)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ RETRY_BASE_MS: '100', RETRY_MAX_ATTEMPTS: '4' });
  });
  after(async () => gw?.stop());
  afterEach(() => {
    gw.smtp.script = {};
  });

  it('SMTP 451 then OK: retried, delivered exactly once, RETRYING recorded with the reason', async () => {
    let refusals = 2;
    gw.smtp.script.onData = (raw) => (raw.includes('Subject: greylisted') && refusals-- > 0 ? { code: 451, text: 'try again later' } : undefined);
    const r = await send(gw, 'grey@example.com', 'greylisted');
    assert.equal(r.code, 0);
    const events = await waitForStatus(gw, r.messageId!, 'SENT');
    assert.deepEqual(events.map((e) => e.status), ['RECEIVED', 'QUEUED', 'RETRYING', 'RETRYING', 'SENT']);
    assert.match(events[2]!.reason, /451/);
    assert.equal(gw.smtp.received.filter((m) => m.mail.subject === 'greylisted').length, 1);
    const msg = await gw.db.knex('messages').where({ id: r.messageId }).first();
    assert.equal(msg.status, 'SENT');
    assert.equal(await gw.db.knex('jobs').where({ message_id: r.messageId }).first(), undefined);
  });

  it('SMTP 550 for the recipient: FAILED at once with the reason, no retry', async () => {
    gw.smtp.script.onRcpt = (a) => (a === 'nobody@example.com' ? { code: 550, text: 'no such user' } : undefined);
    const r = await send(gw, 'nobody@example.com', 'hard bounce');
    const events = await waitForStatus(gw, r.messageId!, 'FAILED');
    assert.deepEqual(events.map((e) => e.status), ['RECEIVED', 'QUEUED', 'FAILED']);
    assert.match(events[2]!.reason, /550/);
    assert.equal((await gw.db.knex('messages').where({ id: r.messageId }).first()).status, 'FAILED');
  });

  it('a 4xx that never ends gives up after RETRY_MAX_ATTEMPTS with FAILED and the last reason', async () => {
    gw.smtp.script.onData = (raw) => (raw.includes('Subject: always busy') ? { code: 421, text: 'busy' } : undefined);
    const r = await send(gw, 'busy@example.com', 'always busy');
    const events = await waitForStatus(gw, r.messageId!, 'FAILED', 20000);
    assert.equal(events.filter((e) => e.status === 'RETRYING').length, 3);
    assert.match(events.at(-1)!.reason, /gave up after 4 attempts/);
  });

  it('the SMTP server unreachable: RETRYING, then delivered once it is back', async () => {
    await gw.smtp.stop();
    const r = await send(gw, 'later@example.com', 'server down');
    await waitForStatus(gw, r.messageId!, 'RETRYING');
    await gw.smtp.start(gw.smtp.port);
    const events = await waitForStatus(gw, r.messageId!, 'SENT', 20000);
    assert.ok(events.some((e) => e.status === 'RETRYING' && /ECONNREFUSED|ECONNECTION|ESOCKET/.test(e.reason)));
    assert.equal(gw.smtp.received.filter((m) => m.mail.subject === 'server down').length, 1);
  });

  it('From falls back to the client default sender; Reply-To, BCC and HTML go out as given', async () => {
    const r = await send(gw, 'to@example.com', 'headers', {
      replyToAddress: 'reply@example.com',
      replyToName: 'Reply Desk',
      bccAddress: 'b1@example.com;b2@example.com',
      mailHtmlBody: '<p>html</p>',
    });
    await waitForStatus(gw, r.messageId!, 'SENT');
    const m = gw.smtp.received.find((x) => x.mail.subject === 'headers')!;
    assert.deepEqual(m.mail.from?.value, [{ name: 'Hammy Demo', address: 'noreply@hammy.example' }]);
    assert.deepEqual((m.mail.replyTo as any).value, [{ name: 'Reply Desk', address: 'reply@example.com' }]);
    assert.deepEqual(m.envelopeTo.sort(), ['b1@example.com', 'b2@example.com', 'to@example.com']);
    assert.equal(m.mail.headers.get('bcc'), undefined, 'BCC is not visible in the mail');
    assert.equal((m.mail.html as string).trim(), '<p>html</p>');
  });
});
