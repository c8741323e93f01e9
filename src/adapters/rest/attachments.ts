// attachmentRef -> multipart part (SPEC §3): every reference names a part, every part is named by one reference.
import type { Issue } from '../../core/errors.js';
import type { AttachmentContent, SendRequestInput } from '../../core/send-request.js';
import { isObj } from '../forms/xml-request.js';
import { partIssue } from './multipart.js';

export type Attached = { items: SendRequestInput[]; itemIssues: Issue[][]; requestIssues: Issue[] };

/** `cid:` URLs (RFC 2392) name a multipart/mixed part by its Content-ID. */
const refName = (ref: string) => ref.replace(/^cid:/i, '');

/**
 * Puts each referenced part in its attachment's `content`. Issues about one item (a reference without its
 * part, a part named twice) stay with that item; a part nobody references is the request's own issue.
 */
export function attachParts(items: SendRequestInput[], files: Map<string, AttachmentContent>, multipart: boolean): Attached {
  const usedBy = new Map<string, string>();
  const itemIssues: Issue[][] = items.map(() => []);
  const attached = items.map((item, i) => {
    if (!Array.isArray(item.attachments)) return item;
    const where = items.length > 1 ? `data[${i}].` : '';
    const attachments = item.attachments.map((a: unknown, j) => {
      if (!isObj(a) || typeof a.attachmentRef !== 'string') return a;
      const ref = a.attachmentRef;
      const field = `attachments[${j}].attachmentRef`;
      const issue = (text: string) => itemIssues[i]!.push({ code: 5, field, text: `${field} ${JSON.stringify(ref)} ${text}` });
      if (!multipart) return issue('names a multipart part, but the request is not multipart'), a;
      if (a.content !== undefined) return issue('is given together with content: send the bytes one way'), a;
      const name = files.has(ref) ? ref : refName(ref);
      const file = files.get(name);
      if (!file) return issue(`names no part of the request (parts: ${[...files.keys()].map((k) => JSON.stringify(k)).join(', ') || 'none'})`), a;
      if (usedBy.has(name)) return issue(`names a part that ${usedBy.get(name)} already takes`), a;
      usedBy.set(name, `${where}${field}`);
      // The part's name is wire detail: without it, a multipart request equals its base64 form (SPEC §6).
      const { attachmentRef: _ref, ...rest } = a;
      return { ...rest, content: file };
    });
    return { ...item, attachments };
  });
  const requestIssues: Issue[] = [...files.keys()]
    .filter((name) => !usedBy.has(name))
    .map((name) => partIssue(5, name, `multipart part ${JSON.stringify(name)} is not named by any attachmentRef`));
  return { items: attached, itemIssues, requestIssues };
}
