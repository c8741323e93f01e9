// Every outbound call has a deadline (issue 16): an SMTP server that accepts and never answers, a delivery that
// outlasts DELIVERY_TIMEOUT_MS, a letter that outlasts DOCUMENT_TIMEOUT_MS: each is retried (RETRYING with a timeout
// reason), never left holding its job, and a good server afterwards gets the mail.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { DEMO_KEY, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

/** A TCP server that takes connections and never says a word (no SMTP greeting). */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const mail = (gw: TestGateway, subject: string, extra: Record<string, string> = {}) =>
  postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientEmailAddress: 'deadline@example.com', recipientName: 'D', mailSubject: subject, mailBody: 'b', ...extra }));
const retryReason = async (gw: TestGateway, id: number) => (await waitForStatus(gw, id, 'RETRYING', 20000)).find((e) => e.status === 'RETRYING')!.reason as string;

describe('deadlines of outbound calls', function () {
  this.timeout(60000);

  it('an SMTP server that accepts and never answers: RETRYING with a timeout reason, then SENT once a good server listens there', async () => {
    const silent = await silentServer();
    const gw = await startTestGateway({ SMTP_URL: `smtp://127.0.0.1:${silent.port}`, SMTP_TIMEOUT_MS: '500', RETRY_BASE_MS: '500' });
    const good = new SmtpSink();
    try {
      const r = await mail(gw, 'silent server');
      assert.equal(r.code, 0);
      assert.match(await retryReason(gw, r.messageId), /ETIMEDOUT/);
      await silent.close();
      await good.start(silent.port);
      await waitForStatus(gw, r.messageId, 'SENT', 30000);
      assert.equal(good.received.length, 1);
      assert.equal(good.received[0]!.mail.subject, 'silent server');
    } finally {
      await gw.stop();
      await good.stop().catch(() => undefined);
      await silent.close();
    }
  });

  it('a delivery longer than DELIVERY_TIMEOUT_MS (the SMTP timeouts longer still) is retried with the delivery deadline as reason', async () => {
    const silent = await silentServer();
    const gw = await startTestGateway({ SMTP_URL: `smtp://127.0.0.1:${silent.port}`, SMTP_TIMEOUT_MS: '60000', DELIVERY_TIMEOUT_MS: '400', RETRY_BASE_MS: '60000' });
    try {
      const r = await mail(gw, 'slow delivery');
      assert.match(await retryReason(gw, r.messageId), /^timeout: delivery took longer than 400 ms$/);
      assert.equal((await gw.db.knex('messages').where({ id: r.messageId }).first()).status, 'RETRYING');
    } finally {
      await gw.stop();
      await silent.close();
    }
  });

  it('a letter not made within DOCUMENT_TIMEOUT_MS is retried, not failed', async () => {
    const gw = await startTestGateway({ DOCUMENT_TIMEOUT_MS: '1', RETRY_BASE_MS: '60000' });
    try {
      const r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: 'L', mailSubject: 'letter', mailBody: 'b', channel: 'POST', recipientPostalAddress: 'Fő utca 1.;1011 Budapest', letterType: 'NORMAL' }));
      assert.equal(r.code, 0);
      assert.match(await retryReason(gw, r.messageId), /^timeout: (making the letter|certification) took longer than 1 ms$/);
    } finally {
      await gw.stop();
    }
  });
});
