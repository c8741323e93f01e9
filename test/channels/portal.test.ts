// The PORTAL channel without PostgreSQL: it answers `published` for the worker to record, and what its notice did.
import assert from 'node:assert/strict';
import { createPortalChannel } from '../../src/channels/portal/portal.js';
import type { Channel, Outcome, StoredMessage } from '../../src/core/delivery.js';

const message = (over: Partial<StoredMessage> = {}): StoredMessage => ({
  id: 3, clientId: 1, channel: 'PORTAL', partnerRef: 'r-1', subject: 'Secret subject', textBody: 'secret body', htmlBody: '<p>secret</p>',
  recipientName: 'Kiss Anna', recipientEmailAddress: 'anna@example.com', fromAddress: 'noreply@example.com', archivingExpected: false,
  certificationExpected: false, replyEnvelopeAttached: false, paymentSlipAttached: false, properties: [], params: [], attachments: [], ...over,
});

/** An e-mail channel that answers `outcome` and keeps what it was given. */
const email = (outcome: Outcome) => {
  const sent: StoredMessage[] = [];
  const channel: Channel = { deliver: async (m) => (sent.push(m), outcome), close: async () => {} };
  return { channel, sent };
};

describe('PORTAL channel (no database)', () => {
  it('publishes and sends a notice without the content', async () => {
    const e = email({ kind: 'sent' });
    assert.deepEqual(await createPortalChannel(e.channel).deliver(message()), { kind: 'sent', ref: 'published; notice sent', published: true });
    assert.equal(e.sent.length, 1);
    assert.doesNotMatch(`${e.sent[0]!.subject} ${e.sent[0]!.textBody} ${e.sent[0]!.htmlBody}`, /secret/i);
  });

  it('publishes without a notice when the recipient has no e-mail address', async () => {
    const e = email({ kind: 'sent' });
    assert.deepEqual(await createPortalChannel(e.channel).deliver(message({ recipientEmailAddress: undefined })), { kind: 'sent', ref: 'published', published: true });
    assert.equal(e.sent.length, 0);
  });

  it('retries a notice worth retrying, published meanwhile', async () => {
    const out = await createPortalChannel(email({ kind: 'retry', reason: 'smtp 451' }).channel).deliver(message());
    assert.deepEqual(out, { kind: 'retry', reason: 'smtp 451', published: true });
  });

  it('is sent, published, when its notice failed for good', async () => {
    const out = await createPortalChannel(email({ kind: 'failed', reason: 'smtp 550' }).channel).deliver(message());
    assert.deepEqual(out, { kind: 'sent', ref: 'published; notice failed: smtp 550', published: true });
  });
});
