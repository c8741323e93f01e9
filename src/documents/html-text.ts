// HTML bodies as text (POST letters, archived copies) and as markdown (the portal), by libraries, never by regex.
import { convert } from 'html-to-text';
import { NodeHtmlMarkdown } from 'node-html-markdown';

// Neither library is linear in the nesting depth (bench/RESULTS.md, "Notes from the code"): htmlparser2, under
// html-to-text, unshifts onto its open-element stack at every tag, and node-html-parser, under node-html-markdown,
// grows faster still. Depth and element count are at most the number of '<', so bounding that bounds both,
// whatever the shape of the body.
const TEXT_MAX_TAGS = 10_000;
const MARKDOWN_MAX_TAGS = 500;
// html-to-text walks the tree recursively: below this depth it stops, before the stack overflows.
const TEXT_OPTIONS = { wordwrap: false as const, limits: { maxDepth: 64 } };

/** Where the (max + 1)-th tag starts, or -1 when the body has at most `max` tags. */
function cutAfterTags(html: string, max: number): number {
  let i = html.indexOf('<');
  for (let n = 0; i !== -1 && n < max; n++) i = html.indexOf('<', i + 1);
  return i;
}

/** Readable text: paragraphs and line breaks kept, tags and scripts gone; a body of more than 10,000 tags is cut there, marked with '…'. */
export function htmlToText(html: string): string {
  const cut = cutAfterTags(html, TEXT_MAX_TAGS);
  const text = convert(cut === -1 ? html : html.slice(0, cut), TEXT_OPTIONS).trim();
  return cut === -1 ? text : `${text}\n\n…`;
}

/** Markdown (headings, bold, links, lists) for an ordinary body; one of more than 500 tags as plain text. */
export function htmlToMarkdown(html: string): string {
  if (cutAfterTags(html, MARKDOWN_MAX_TAGS) !== -1) return htmlToText(html);
  return NodeHtmlMarkdown.translate(html).trim();
}
