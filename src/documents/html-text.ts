// HTML bodies as text (POST letters, archived copies) and as markdown (the portal), by libraries, never by regex.
import { convert } from 'html-to-text';
import { NodeHtmlMarkdown } from 'node-html-markdown';

// html-to-text walks the tree recursively: below this depth it stops (a body of 4,000 nested tags overflowed the
// stack). Nothing a person reads is nested this deep.
const MAX_DEPTH = 64;
// node-html-markdown's parser (node-html-parser) grows faster than the input with nesting: measured here, 1,000
// nested <b> took 0.7 s, 2,000 took 4.7 s, 4,000 took 37 s. Depth and element count are at most the number of
// '<', so up to this many the markdown is cheap whatever the shape; a larger body is given as plain text.
const MARKDOWN_MAX_TAGS = 500;

const TEXT_OPTIONS = { wordwrap: false as const, limits: { maxDepth: MAX_DEPTH } };

/** Readable text: paragraphs and line breaks kept, tags and scripts gone. */
export function htmlToText(html: string): string {
  return convert(html, TEXT_OPTIONS).trim();
}

/** Markdown (headings, bold, links, lists) for an ordinary body; a very large or deep one as plain text. */
export function htmlToMarkdown(html: string): string {
  let tags = 0;
  for (let i = html.indexOf('<'); i !== -1 && tags <= MARKDOWN_MAX_TAGS; i = html.indexOf('<', i + 1)) tags++;
  if (tags > MARKDOWN_MAX_TAGS) return htmlToText(html);
  return NodeHtmlMarkdown.translate(html).trim();
}
