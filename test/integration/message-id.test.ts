// The Message-ID is the same on every host and retry (issue 16): <hammy.<messageId>@<domain of the from-address>>,
// or MESSAGE_ID_DOMAIN when set; never the host name, so a receiver can drop the copy a crash makes us send.
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { loadConfig } from '../../src/config.js';
import { DEMO_KEY, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

/** Sends one mail through a server that answers 451 to the first DATA; answers both Message-IDs and the From address. */
async function sendThrough451(gw: TestGateway, extra: Record<string, string> = {}) {
  const refused: Buffer[] = [];
  gw.smtp.script.onData = (raw) => {
    if (refused.length > 0) return undefined;
    refused.push(raw);
    return { code: 451, text: 'try again later' };
  };
  const r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientEmailAddress: 'mid@example.com', recipientName: 'M', mailSubject: 'message id', mailBody: 'b', ...extra }));
  assert.equal(r.code, 0);
  const events = await waitForStatus(gw, r.messageId, 'SENT');
  assert.ok(events.some((e) => e.status === 'RETRYING' && /451/.test(e.reason)), 'the first attempt was refused with 451');
  const [accepted] = await gw.smtp.waitFor(1);
  const first = await simpleParser(refused[0]!);
  return { messageId: r.messageId, firstId: first.messageId, sentId: accepted!.mail.messageId, from: accepted!.mail.from!.value[0]!.address! };
}

describe('Message-ID', function () {
  this.timeout(60000);

  it('is <hammy.<id>@<from domain>> on the refused attempt and on the retry that went through, not the host name', async () => {
    const gw = await startTestGateway();
    try {
      const m = await sendThrough451(gw, { fromAddress: 'Ugyfelszolgalat@Hivatal.Example.HU' });
      assert.equal(m.sentId, `<hammy.${m.messageId}@hivatal.example.hu>`);
      assert.equal(m.firstId, m.sentId, 'the same Message-ID across the retry');
    } finally {
      await gw.stop();
    }
  });

  it("takes the client's default from-address when the request names none", async () => {
    const gw = await startTestGateway();
    try {
      const m = await sendThrough451(gw);
      assert.equal(m.sentId, `<hammy.${m.messageId}@${m.from.split('@')[1]!.toLowerCase()}>`);
      assert.equal(m.firstId, m.sentId);
    } finally {
      await gw.stop();
    }
  });

  it('is <hammy.<id>@MESSAGE_ID_DOMAIN> when that is set, whatever the from-address', async () => {
    const gw = await startTestGateway({ MESSAGE_ID_DOMAIN: 'mail.example.org' });
    try {
      const m = await sendThrough451(gw, { fromAddress: 'a@hivatal.example.hu' });
      assert.equal(m.sentId, `<hammy.${m.messageId}@mail.example.org>`);
      assert.equal(m.firstId, m.sentId);
    } finally {
      await gw.stop();
    }
  });

  it('MESSAGE_ID_DOMAIN that is not a domain name is refused at start, naming the variable', () => {
    assert.throws(() => loadConfig({ MESSAGE_ID_DOMAIN: 'bad domain>' }), /MESSAGE_ID_DOMAIN is invalid/);
  });
});
