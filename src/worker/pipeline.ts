// The steps after a message is claimed (STYLE §3): certify, archive, then the channel; each safe to run again.
import { codeOf, type Channel, type Outcome, type StoredMessage } from '../core/delivery.js';
import { lateOutcome, withDeadline } from '../core/deadline.js';
import type { ChannelName } from '../core/send-request.js';
import type { Archiver } from '../documents/archive.js';
import type { Certifier } from '../documents/certify.js';
import type { JobStore } from '../store/jobs.js';

export type Pipeline = (m: StoredMessage) => Promise<Outcome>;

/** documentTimeoutMs: the deadline of certification and of archiving (DOCUMENT_TIMEOUT_MS); past it, the delivery is retried. */
export function createPipeline(o: { channels: Partial<Record<ChannelName, Channel>>; certifier?: Certifier; archiver?: Archiver; jobs: JobStore; documentTimeoutMs: number }): Pipeline {
  return async (m) => {
    const channel = o.channels[m.channel];
    if (!channel) return { kind: 'failed', reason: `channel ${m.channel} is not available in this gateway` };

    let note: string | undefined;
    if (o.certifier) {
      let c: Awaited<ReturnType<Certifier['certify']>>;
      try {
        c = await withDeadline(o.certifier.certify(m), o.documentTimeoutMs, 'certification');
      } catch (e) {
        const late = lateOutcome(e);
        if (late) return late;
        throw e;
      }
      if (!c.ok) return { kind: 'failed', reason: c.reason, detail: c.detail };
      note = c.note;
    }
    if (o.archiver) {
      try {
        const n = (await withDeadline(o.archiver.archive(m), o.documentTimeoutMs, 'archive write')).length;
        // ARCHIVE ends in ARCHIVED when it settles; the others record the step on their way to SENT.
        if (m.channel !== 'ARCHIVE' && (n > 0 || m.archivingExpected || m.attachments.some((a) => a.archivingExpected))) {
          await o.jobs.recordEventOnce(m.id, 'ARCHIVED', n > 0 ? `${n} item(s) archived` : 'archived');
        }
      } catch (e) {
        return lateOutcome(e) ?? { kind: 'retry', reason: `archiving failed${codeOf(e)}`, detail: e };
      }
    }
    const out = await channel.deliver(m);
    if (out.kind === 'sent' && note) return { ...out, ref: [out.ref, note].filter(Boolean).join('; ') };
    return out;
  };
}
