// Print-ready POST letters and plain message PDFs: A4, DejaVu Sans, DIN 5008 window layout (SPEC §4 step 6).
import { looksLikePdf } from '../core/validate.js';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, rgb, type PDFFont, type PDFPage } from 'pdf-lib';

export type LetterInput = {
  messageId: number;
  sender: { name: string; email?: string };
  recipientName: string;
  recipientPostalAddress: string;
  letterType: 'NORMAL' | 'PRIORITY' | 'REGISTERED' | 'REGISTERED_RETURN_RECEIPT' | 'OFFICIAL';
  date: Date;
  subject: string;
  body: string;
  attachments: { fileName: string; content: Buffer }[];
};

const A4: [number, number] = [595.28, 841.89];
const mm = (v: number) => (v * 72) / 25.4;
const fromTop = (v: number) => A4[1] - mm(v);
const LEFT = mm(25);
const RIGHT = A4[0] - mm(20);
const BOTTOM = mm(25); // body text stays above this; the footer sits below it
const GREY = rgb(0.35, 0.35, 0.35);
const MONTHS = ['január', 'február', 'március', 'április', 'május', 'június', 'július', 'augusztus', 'szeptember', 'október', 'november', 'december'];
// Service markings print in the window's upper (endorsement) zone, where the post office looks for them.
const MARKINGS: Record<LetterInput['letterType'], string | undefined> = {
  NORMAL: undefined,
  PRIORITY: 'ELSŐBBSÉGI',
  REGISTERED: 'AJÁNLOTT',
  REGISTERED_RETURN_RECEIPT: 'AJÁNLOTT – TÉRTIVEVÉNYES',
  OFFICIAL: 'HIVATALOS IRAT',
};

type Fonts = { regular: PDFFont; bold: PDFFont };
type Style = { font: PDFFont; size: number; leading: number };

/** Readers accept the header anywhere in the first 1024 bytes; we allow only whitespace or a BOM before it. */

export async function pageCount(pdf: Buffer): Promise<number> {
  return (await PDFDocument.load(pdf, { ignoreEncryption: true, updateMetadata: false })).getPageCount();
}

export async function makeLetterPdf(input: LetterInput): Promise<{ pdf: Buffer; pageCount: number }> {
  const { doc, fonts } = await newDocument(input.subject);
  const flow = new PageFlow(doc);
  const headEnd = drawLetterHead(flow.newPage(), fonts, input);
  flow.moveTo(Math.min(fromTop(98.5), headEnd - 14)); // DIN 5008's subject line, unless an overlong address reaches below it
  flow.write(input.subject, { font: fonts.bold, size: 11, leading: 14 });
  flow.gap(14);
  writeBody(flow, input.body, fonts);
  drawFooters(flow.pages, fonts.regular, `Hivatkozási szám: ${input.messageId}`);
  await appendAttachments(doc, input.attachments);
  return { pdf: await save(doc), pageCount: doc.getPageCount() };
}

export async function textToPdf(title: string, body: string): Promise<Buffer> {
  const { doc, fonts } = await newDocument(title);
  const flow = new PageFlow(doc);
  flow.newPage(fromTop(20));
  flow.write(title, { font: fonts.bold, size: 14, leading: 18 });
  flow.gap(12);
  writeBody(flow, body, fonts);
  drawFooters(flow.pages, fonts.regular);
  return save(doc);
}

let fontBytes: Promise<{ regular: Buffer; bold: Buffer }> | undefined;
/** Read once per process: every document embeds a subset of the same ~1.4 MB of TTF. */
function loadFontBytes() {
  fontBytes ??= (async () => {
    const pkg = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json');
    const dir = path.join(path.dirname(pkg), 'ttf');
    const [regular, bold] = await Promise.all([fs.readFile(path.join(dir, 'DejaVuSans.ttf')), fs.readFile(path.join(dir, 'DejaVuSans-Bold.ttf'))]);
    return { regular, bold };
  })().catch((e) => {
    fontBytes = undefined; // a failed read must not stick for the life of the process
    throw e;
  });
  return fontBytes;
}

type Fontkit = Parameters<PDFDocument['registerFontkit']>[0];
const parsedFonts = new WeakMap<Uint8Array, ReturnType<Fontkit['create']>>();
/** pdf-lib parses the TTF again for every document; one parsed font (with its glyph cache) serves them all, a letter drops from ~70 to ~20 ms. */
const cachingFontkit: Fontkit = {
  create(bytes) {
    let font = parsedFonts.get(bytes);
    if (!font) parsedFonts.set(bytes, (font = fontkit.create(bytes)));
    return font;
  },
};

async function newDocument(title: string): Promise<{ doc: PDFDocument; fonts: Fonts }> {
  const bytes = await loadFontBytes();
  const doc = await PDFDocument.create();
  doc.registerFontkit(cachingFontkit);
  // The standard 14 fonts lack ő and ű; a subset keeps a one-page letter small.
  const regular = await doc.embedFont(bytes.regular, { subset: true });
  const bold = await doc.embedFont(bytes.bold, { subset: true });
  doc.setTitle(title);
  doc.setCreator('hammy-gateway');
  doc.setProducer('hammy-gateway');
  return { doc, fonts: { regular, bold } };
}

async function save(doc: PDFDocument): Promise<Buffer> {
  const bytes = await doc.save();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Sender top left, service marking and address in the DL/C5 window (20 mm left, 45 mm top, 85 × 45 mm), date and reference right. */
function drawLetterHead(page: PDFPage, fonts: Fonts, input: LetterInput): number {
  let y = fromTop(15);
  for (const line of wrap(oneLine(input.sender.name), fonts.bold, 11, mm(95))) {
    page.drawText(line, { x: LEFT, y, font: fonts.bold, size: 11 });
    y -= 13;
  }
  if (input.sender.email) page.drawText(oneLine(input.sender.email), { x: LEFT, y, font: fonts.regular, size: 9 });
  const marking = MARKINGS[input.letterType];
  if (marking) page.drawText(marking, { x: mm(25), y: fromTop(57), font: fonts.bold, size: 9 });
  const addressEnd = drawAddress(page, fonts.regular, [input.recipientName, ...addressLines(input.recipientPostalAddress)].map(oneLine));
  page.drawText(`Kelt: ${hungarianDate(input.date)}`, { x: mm(125), y: fromTop(62.7) - 9, font: fonts.regular, size: 9 });
  page.drawText(`Hivatkozási szám: ${input.messageId}`, { x: mm(125), y: fromTop(62.7) - 21, font: fonts.regular, size: 9 });
  return addressEnd;
}

/** The address zone is the window below its 17.7 mm endorsement zone, 5 mm inset: shrink the type, then wrap, to stay inside. */
function drawAddress(page: PDFPage, font: PDFFont, lines: string[]): number {
  const width = mm(75);
  const height = mm(27.3);
  let size = 10;
  let wrapped = lines.flatMap((l) => wrap(l, font, size, width));
  while (size > 7 && (wrapped.length > lines.length || wrapped.length * size * 1.2 > height)) {
    size -= 0.5;
    wrapped = lines.flatMap((l) => wrap(l, font, size, width));
  }
  let y = fromTop(62.7) - size;
  for (const line of wrapped) {
    page.drawText(line, { x: mm(25), y, font, size });
    y -= size * 1.2;
  }
  return y;
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
function writeBody(flow: PageFlow, body: string, fonts: Fonts): void {
  const style = { font: fonts.regular, size: 10.5, leading: 14 };
  for (const paragraph of clean(body).trim().split(/\n[ \t]*\n\s*/)) {
    for (const line of paragraph.split('\n')) flow.write(line, style);
    flow.gap(7);
  }
}

function drawFooters(pages: PDFPage[], font: PDFFont, reference?: string): void {
  pages.forEach((page, i) => {
    const label = `${i + 1}/${pages.length}`;
    page.drawText(label, { x: RIGHT - font.widthOfTextAtSize(label, 8), y: mm(12), font, size: 8, color: GREY });
    if (reference) page.drawText(reference, { x: LEFT, y: mm(12), font, size: 8, color: GREY });
  });
}

async function appendAttachments(doc: PDFDocument, attachments: LetterInput['attachments']): Promise<void> {
  for (const a of attachments) {
    const refuse = (why: string) => new Error(`attachment ${JSON.stringify(a.fileName)} ${why}`);
    if (!looksLikePdf(a.content)) throw refuse('is not a PDF');
    let pages: PDFPage[];
    try {
      // pdf-lib loads leniently: a broken page tree only shows when the pages are read
      const src = await PDFDocument.load(a.content, { updateMetadata: false });
      pages = await doc.copyPages(src, src.getPageIndices());
    } catch {
      throw refuse('is not a readable PDF (damaged or encrypted)');
    }
    if (pages.length === 0) throw refuse('has no pages');
    for (const page of pages) doc.addPage(page);
  }
}

/** NFC so ő arrives as one glyph; control characters have no glyph and newlines are layout. */
function clean(text: string): string {
  return text.normalize('NFC').replace(/\r\n?/g, '\n').replace(/\t/g, '    ').replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '');
}

/** Where no line break is meant (names, subjects, lines writeBody already split) a newline is a space. */
function oneLine(text: string): string {
  return clean(text).replace(/\n/g, ' ');
}

/** Greedy word wrap; a word wider than the line is broken between characters. */
function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const space = font.widthOfTextAtSize(' ', size);
  const lines: string[] = [];
  let line = '';
  let used = 0;
  for (const word of text.trim().split(/ +/)) {
    const w = font.widthOfTextAtSize(word, size);
    if (line && used + space + w <= width) {
      line += ` ${word}`;
      used += space + w;
      continue;
    }
    if (line) lines.push(line);
    if (w <= width) [line, used] = [word, w];
    else {
      const pieces = breakWord(word, font, size, width);
      line = pieces.pop()!;
      used = font.widthOfTextAtSize(line, size);
      lines.push(...pieces);
    }
  }
  lines.push(line);
  return lines;
}

function breakWord(word: string, font: PDFFont, size: number, width: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const ch of word) {
    if (piece && font.widthOfTextAtSize(piece + ch, size) > width) {
      pieces.push(piece);
      piece = ch;
    } else piece += ch;
  }
  pieces.push(piece);
  return pieces;
}

/** Writes wrapped lines down the page between the margins, starting a new page at the bottom margin. */
class PageFlow {
  readonly pages: PDFPage[] = [];
  private page!: PDFPage;
  private y = 0;

  constructor(private readonly doc: PDFDocument) {}

  newPage(top = fromTop(20)): PDFPage {
    this.page = this.doc.addPage(A4);
    this.pages.push(this.page);
    this.y = top;
    return this.page;
  }

  write(text: string, style: Style): void {
    for (const line of wrap(oneLine(text), style.font, style.size, RIGHT - LEFT)) {
      if (this.y - style.leading < BOTTOM) this.newPage();
      this.y -= style.leading;
      if (line) this.page.drawText(line, { x: LEFT, y: this.y, font: style.font, size: style.size });
    }
  }

  moveTo(y: number): void {
    this.y = y;
  }

  gap(height: number): void {
    this.y -= height;
  }
}
