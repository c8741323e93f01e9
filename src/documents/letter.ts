// Print-ready POST letters and plain message PDFs: A4, DejaVu Sans, DIN 5008 window layout (SPEC §4 step 6).
// pdfkit lays the text out (line breaking, pages); pdf-lib appends the attachments' pages.
import { looksLikePdf } from '../core/validate.js';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PDFDocument as PdfFile, type PDFPage } from 'pdf-lib';
import PDFDocument from 'pdfkit';

export type LetterInput = {
  messageId: number;
  /** postalAddress: the return address printed under the name (lines separated by newlines or ';'). */
  sender: { name: string; postalAddress?: string | null };
  recipientName: string;
  recipientPostalAddress: string;
  letterType: 'NORMAL' | 'PRIORITY' | 'REGISTERED' | 'REGISTERED_RETURN_RECEIPT' | 'OFFICIAL';
  date: Date;
  subject: string;
  body: string;
  attachments: { fileName: string; content: Buffer }[];
  /** Written into the PDF's Keywords: a later attempt of the same letter knows the file as its own (letterMarkOf). */
  mark?: string;
};

const MARK_PREFIX = 'hammy-letter:';

/** The mark a letter was made with (LetterInput.mark), read from a PDF file; undefined for any other file. */
export async function letterMarkOf(pdf: Buffer): Promise<string | undefined> {
  try {
    const keywords = (await PdfFile.load(pdf, { updateMetadata: false, ignoreEncryption: true })).getKeywords() ?? '';
    return keywords.startsWith(MARK_PREFIX) ? keywords.slice(MARK_PREFIX.length) : undefined;
  } catch {
    return undefined;
  }
}

const mm = (v: number) => (v * 72) / 25.4;
const MARGINS = { top: mm(20), left: mm(25), right: mm(20), bottom: mm(25) }; // the footer sits below the bottom one
const WIDTH = mm(210) - MARGINS.left - MARGINS.right;
const GREY = '#595959';
const MONTHS = ['január', 'február', 'március', 'április', 'május', 'június', 'július', 'augusztus', 'szeptember', 'október', 'november', 'december'];
// Service markings print in the window's upper (endorsement) zone, where the post office looks for them.
const MARKINGS: Record<LetterInput['letterType'], string | undefined> = {
  NORMAL: undefined,
  PRIORITY: 'ELSŐBBSÉGI',
  REGISTERED: 'AJÁNLOTT',
  REGISTERED_RETURN_RECEIPT: 'AJÁNLOTT – TÉRTIVEVÉNYES',
  OFFICIAL: 'HIVATALOS IRAT',
};
// The DL/C5 window: 20 mm from the left, 45 mm from the top, 85 × 45 mm; its first 17.7 mm are the endorsement zone.
const ADDRESS_ZONE = { x: mm(25), y: mm(62.7), width: mm(75), height: mm(27.3) };

type Doc = PDFKit.PDFDocument;

/** The letter, then the attachments' pages; every letter page's footer counts all pages of the file. */
export async function makeLetterPdf(input: LetterInput): Promise<{ pdf: Buffer; pageCount: number }> {
  const attachments = await readAttachments(input.attachments);
  const attachmentPages = attachments.reduce((n, a) => n + a.getPageCount(), 0);
  const doc = await newDocument(input.subject, input.mark);
  const addressEnd = writeLetterHead(doc, input);
  // DIN 5008's subject line, unless an overlong address reaches below it.
  doc.font('bold').fontSize(11).text(oneLine(input.subject), MARGINS.left, Math.max(mm(98.5), addressEnd + 14), { width: WIDTH });
  doc.moveDown(1);
  writeBody(doc, input.body);
  const letterPages = writeFooters(doc, attachmentPages, `Hivatkozási szám: ${input.messageId}`);
  const letter = await finish(doc);
  if (attachments.length === 0) return { pdf: letter, pageCount: letterPages };
  const file = await PdfFile.load(letter, { updateMetadata: false });
  for (const src of attachments) for (const page of await file.copyPages(src, src.getPageIndices())) file.addPage(page);
  const bytes = await file.save();
  return { pdf: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), pageCount: file.getPageCount() };
}

export async function textToPdf(title: string, body: string): Promise<Buffer> {
  const doc = await newDocument(title);
  doc.font('bold').fontSize(14).text(oneLine(title), MARGINS.left, MARGINS.top, { width: WIDTH });
  doc.moveDown(0.8);
  writeBody(doc, body);
  writeFooters(doc, 0);
  return finish(doc);
}

type Fonts = { regular: PDFKit.Mixins.PDFFontSource; bold: PDFKit.Mixins.PDFFontSource };
let fonts: Promise<Fonts> | undefined;
/**
 * Read and parsed once per process, by pdfkit's own fontkit: pdfkit takes a parsed font as well as its bytes, and
 * parsing the ~1.4 MB of TTF again for every document would cost more than laying out the letter.
 */
function loadFonts(): Promise<Fonts> {
  fonts ??= (async () => {
    const require = createRequire(import.meta.url);
    const fontkit = createRequire(require.resolve('pdfkit'))('fontkit') as { create(bytes: Uint8Array): object };
    const dir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    const [regular, bold] = await Promise.all([fs.readFile(path.join(dir, 'DejaVuSans.ttf')), fs.readFile(path.join(dir, 'DejaVuSans-Bold.ttf'))]);
    return { regular: fontkit.create(regular) as PDFKit.Mixins.PDFFontSource, bold: fontkit.create(bold) as PDFKit.Mixins.PDFFontSource };
  })().catch((e) => {
    fonts = undefined; // a failed read must not stick for the life of the process
    throw e;
  });
  return fonts;
}

async function newDocument(title: string, mark?: string): Promise<Doc> {
  const { regular, bold } = await loadFonts();
  // bufferPages: the footers are written last, when the number of pages is known. `font`: pdfkit's default
  // (Helvetica, unembedded) would otherwise be set up, and named in the file, though nothing uses it.
  const doc = new PDFDocument({ size: 'A4', margins: MARGINS, bufferPages: true, font: regular as unknown as string, info: { Title: title, Creator: 'hammy-gateway', Producer: 'hammy-gateway', ...(mark ? { Keywords: `${MARK_PREFIX}${mark}` } : {}) } });
  // The standard 14 fonts lack ő and ű; pdfkit embeds the subset a document uses.
  doc.registerFont('regular', regular);
  doc.registerFont('bold', bold);
  return doc;
}

function finish(doc: Doc): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.end();
  });
}

/** Sender (name and return address) top left, service marking and address in the window, date and reference right. */
function writeLetterHead(doc: Doc, input: LetterInput): number {
  doc.font('bold').fontSize(11).text(oneLine(input.sender.name), MARGINS.left, mm(15), { width: mm(95) });
  const returnAddress = addressLines(input.sender.postalAddress ?? '').map(oneLine);
  if (returnAddress.length) doc.font('regular').fontSize(9).text(returnAddress.join('\n'), { width: mm(95) });
  const marking = MARKINGS[input.letterType];
  if (marking) doc.font('bold').fontSize(9).text(marking, ADDRESS_ZONE.x, mm(54), { lineBreak: false });
  const addressEnd = writeAddress(doc, [input.recipientName, ...addressLines(input.recipientPostalAddress)].map(oneLine));
  doc.font('regular').fontSize(9);
  doc.text(`Kelt: ${hungarianDate(input.date)}`, mm(125), ADDRESS_ZONE.y, { lineBreak: false });
  doc.text(`Hivatkozási szám: ${input.messageId}`, mm(125), ADDRESS_ZONE.y + 12, { lineBreak: false });
  return addressEnd;
}

/** Shrinks the type until every address line fits the zone's width unbroken and all of them its height; below 7 pt, wraps. */
function writeAddress(doc: Doc, lines: string[]): number {
  const { x, y, width, height } = ADDRESS_ZONE;
  const text = lines.join('\n');
  let size = 10;
  const fits = () => {
    doc.font('regular').fontSize(size);
    const lineHeight = doc.currentLineHeight(true);
    const total = doc.heightOfString(text, { width });
    return total <= height && Math.round(total / lineHeight) <= lines.length;
  };
  while (size > 7 && !fits()) size -= 0.5;
  doc.font('regular').fontSize(size).text(text, x, y, { width });
  return doc.y;
}

function addressLines(address: string): string[] {
  return address.split(/\r?\n|;/).map((l) => l.trim()).filter(Boolean);
}

/** Dates as Hungarian letters write them, in Budapest time whatever the server's zone. */
function hungarianDate(d: Date): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Budapest', year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(d);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return `${get('year')}. ${MONTHS[get('month') - 1]} ${get('day')}.`;
}

/** Paragraphs are separated by blank lines; a single newline inside one is kept (salutations, signatures). */
function writeBody(doc: Doc, body: string): void {
  doc.font('regular').fontSize(10.5);
  for (const paragraph of clean(body).trim().split(/\n[ \t]*\n\s*/)) {
    doc.text(paragraph, MARGINS.left, undefined, { width: WIDTH, lineGap: 1.5, paragraphGap: 7 });
  }
}

/** `x/y` on every page the document has so far, y counting `morePages` appended after it; answers its own page count. */
function writeFooters(doc: Doc, morePages: number, reference?: string): number {
  const { start, count } = doc.bufferedPageRange();
  const total = count + morePages;
  for (let i = start; i < start + count; i++) {
    doc.switchToPage(i);
    // Below the bottom margin: without this pdfkit would start a new page for the footer.
    doc.page.margins.bottom = 0;
    const y = doc.page.height - mm(12) - 8;
    doc.font('regular').fontSize(8).fillColor(GREY);
    if (reference) doc.text(reference, MARGINS.left, y, { lineBreak: false });
    doc.text(`${i + 1}/${total}`, MARGINS.left, y, { width: WIDTH, align: 'right', lineBreak: false });
  }
  return count;
}

/** Loads each attachment before the letter is laid out: its page count is in the footers, a bad one names the file. */
async function readAttachments(attachments: LetterInput['attachments']): Promise<PdfFile[]> {
  const files: PdfFile[] = [];
  for (const a of attachments) {
    const refuse = (why: string) => new Error(`attachment ${JSON.stringify(a.fileName)} ${why}`);
    if (!looksLikePdf(a.content)) throw refuse('is not a PDF');
    let file: PdfFile;
    let pages: PDFPage[];
    try {
      // pdf-lib loads leniently: a broken page tree only shows when the pages are read
      file = await PdfFile.load(a.content, { updateMetadata: false });
      pages = file.getPages();
    } catch {
      throw refuse('is not a readable PDF (damaged or encrypted)');
    }
    if (pages.length === 0) throw refuse('has no pages');
    files.push(file);
  }
  return files;
}

/** NFC so ő arrives as one glyph; control characters have no glyph and newlines are layout. */
function clean(text: string): string {
  return text.normalize('NFC').replace(/\r\n?/g, '\n').replace(/\t/g, '    ').replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '');
}

/** Where no line break is meant (names, subjects, address lines) a newline is a space. */
function oneLine(text: string): string {
  return clean(text).replace(/\n/g, ' ');
}
