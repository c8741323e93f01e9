// What the command-line tool prints: a message's status and timeline, and a batch's progress (bar on a terminal, lines elsewhere).

export type BatchState = { total: number; pending: number; final: boolean; counts: Record<string, number> };

const time = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '-' : String(v));

/** The message resource of the status API as a short report, its timeline last. */
export function messageReport(m: { id: string; attributes: Record<string, any> }): string {
  const a = m.attributes;
  const recipient = [a.recipientName, a.recipientEmailAddress ? `<${a.recipientEmailAddress}>` : undefined, a.recipientPostalAddress?.replace(/\n/g, '; ')]
    .filter(Boolean)
    .join(' ');
  const rows: [string, unknown][] = [
    ['channel', a.channel],
    ['recipient', recipient],
    ['subject', a.subject],
    ['template', a.messageType ? `${a.messageType} v${a.messageTypeVersion ?? '?'}` : undefined],
    ['batch', a.batchId],
    ['request', a.requestId],
    ['partner', a.partnerRef],
    ['origin', a.origin],
    ['issuer', a.issuer],
    ['related', a.relatedMessageId],
    ['created', time(a.createdAt)],
    ['updated', time(a.updatedAt)],
  ];
  const lines = [`message ${m.id}  ${a.status}${a.final ? ' (final)' : ''}`];
  for (const [k, v] of rows) if (v !== undefined && v !== null && v !== '') lines.push(`  ${k.padEnd(10)}${v}`);
  if (Array.isArray(a.events)) {
    lines.push('  timeline');
    for (const e of a.events) lines.push(`    ${time(e.createdAt)}  ${String(e.status).padEnd(9)}  ${e.reason ?? ''}`.trimEnd());
  }
  return lines.join('\n');
}

/** Counts in a stable order: the statuses a batch moves through, then any other. */
const ORDER = ['RECEIVED', 'QUEUED', 'RETRYING', 'ARCHIVED', 'SENT', 'DELIVERED', 'READ', 'FAILED'];
export function countsText(counts: Record<string, number>): string {
  const rank = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
  const keys = Object.keys(counts).sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
  return keys.map((k) => `${k} ${counts[k]}`).join(', ');
}

/** One line for a log or pipe: printed whenever the batch changes. */
export function batchLine(batchId: string, b: BatchState): string {
  return `batch ${batchId}: ${b.total - b.pending}/${b.total} final (${countsText(b.counts)})`;
}

/** The terminal form: a bar of the final share, redrawn in place. */
export function progressBar(batchId: string, b: BatchState, width = 30): string {
  const done = b.total === 0 ? 0 : Math.round(((b.total - b.pending) / b.total) * width);
  return `${batchId} [${'#'.repeat(done)}${'-'.repeat(width - done)}] ${b.total - b.pending}/${b.total}  ${countsText(b.counts)}`;
}
