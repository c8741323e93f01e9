// The POST letter PDF read back by poppler's pdftotext and pdfinfo: address, Hungarian text, pages, attachments.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { looksLikePdf } from '../../src/core/validate.js';
import { makeLetterPdf, textToPdf, type LetterInput } from '../../src/documents/letter.js';

const run = promisify(execFile);
const FILES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/files');
const file = (name: string) => fs.readFileSync(path.join(FILES, name));
const HUNGARIAN = 'Tisztelt Kovács Őszike! Díjértesítő – árvíztűrő tükörfúrógép';

function letter(over: Partial<LetterInput> = {}): LetterInput {
  return {
    messageId: 4711,
    sender: { name: 'Hammy Biztosító Zrt.', postalAddress: 'Pf. 123;1364 Budapest' },
    recipientName: 'Kovács Őszike',
    recipientPostalAddress: 'Fő utca 12. II/3.;1011 Budapest\nMagyarország',
    letterType: 'REGISTERED',
    date: new Date('2026-11-26T10:00:00Z'),
    subject: 'Díjértesítő a 10000001 számú szerződéshez',
    body: `${HUNGARIAN}\n\nÉrtesítjük, hogy a következő díj esedékes.\n\nÜdvözlettel,\nHammy Biztosító`,
    attachments: [],
    ...over,
  };
}

describe('letter PDF (SPEC §4 step 6, POST)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hammy-letter-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes the PDF where poppler can read it; returns its text (pages optional) and pdfinfo's page count. */
  async function poppler(pdf: Buffer, pages?: { first: number; last: number }) {
    const f = path.join(dir, `${Math.random().toString(36).slice(2)}.pdf`);
    fs.writeFileSync(f, pdf);
    const range = pages ? ['-f', String(pages.first), '-l', String(pages.last)] : [];
    const text = (await run('pdftotext', [...range, f, '-'])).stdout;
    const pagesLine = /^Pages:\s+(\d+)/m.exec((await run('pdfinfo', [f])).stdout);
    return { text, pages: Number(pagesLine?.[1]) };
  }

  it('holds the recipient in the window, the subject, the body and Hungarian text intact', async () => {
    const { pdf, pageCount: n } = await makeLetterPdf(letter());
    const { text, pages } = await poppler(pdf);
    assert.equal(n, 1);
    assert.equal(pages, 1);
    for (const s of ['Kovács Őszike', 'Fő utca 12. II/3.', '1011 Budapest', 'Magyarország', 'Díjértesítő a 10000001 számú szerződéshez', HUNGARIAN, 'Értesítjük, hogy a következő díj esedékes.', 'Hammy Biztosító Zrt.', 'AJÁNLOTT', '4711', '2026. november 26.', '1/1']) {
      assert.ok(text.includes(s), `${JSON.stringify(s)} in the letter text:\n${text}`);
    }
  });

  it('prints the letterType marking, and none for NORMAL', async () => {
    const marks = { PRIORITY: 'ELSŐBBSÉGI', REGISTERED_RETURN_RECEIPT: 'TÉRTIVEVÉNYES', OFFICIAL: 'HIVATALOS IRAT' } as const;
    for (const [letterType, mark] of Object.entries(marks)) {
      const { text } = await poppler((await makeLetterPdf(letter({ letterType: letterType as LetterInput['letterType'] }))).pdf);
      assert.ok(text.includes(mark), `${letterType} prints ${mark}`);
    }
    const { text } = await poppler((await makeLetterPdf(letter({ letterType: 'NORMAL' }))).pdf);
    assert.doesNotMatch(text, /AJÁNLOTT|ELSŐBBSÉGI|HIVATALOS/);
  });

  it('wraps a long body onto numbered pages; pageCount agrees with pdfinfo', async () => {
    const paragraphs = Array.from({ length: 60 }, (_, i) => `${i + 1}. bekezdés: ${'árvíztűrő tükörfúrógép '.repeat(12)}vége.`);
    const { pdf, pageCount: n } = await makeLetterPdf(letter({ body: paragraphs.join('\n\n') }));
    const { text, pages } = await poppler(pdf);
    assert.ok(n >= 3, `${n} pages`);
    assert.equal(n, pages);
    assert.ok(text.includes(`${n}/${n}`) && text.includes(`1/${n}`), 'page numbers in the footer');
    assert.ok(text.includes('60. bekezdés'), 'the last paragraph is not lost');
  });

  it('numbers the pages of a two-page letter 1/2 and 2/2', async () => {
    const paragraphs = Array.from({ length: 14 }, (_, i) => `${i + 1}. bekezdés: ${'árvíztűrő tükörfúrógép '.repeat(12)}vége.`);
    const { pdf, pageCount: n } = await makeLetterPdf(letter({ body: paragraphs.join('\n\n') }));
    assert.equal(n, 2);
    assert.equal((await poppler(pdf)).pages, 2);
    const footer = (text: string) => /(\d+)\/(\d+)\s*$/.exec(text.trim())?.slice(1).join('/');
    assert.equal(footer((await poppler(pdf, { first: 1, last: 1 })).text), '1/2');
    assert.equal(footer((await poppler(pdf, { first: 2, last: 2 })).text), '2/2');
    assert.match((await poppler(pdf, { first: 2, last: 2 })).text, /14\. bekezdés/);
  });

  it('counts the attachments’ pages in the letter’s footer: a one-page letter with two appended says 1/3', async () => {
    const { pdf } = await makeLetterPdf(letter({ attachments: [{ fileName: 'minta.pdf', content: file('minta.pdf') }, { fileName: 'test.pdf', content: file('test.pdf') }] }));
    const first = (await poppler(pdf, { first: 1, last: 1 })).text;
    assert.match(first, /\b1\/3\b/);
    assert.doesNotMatch(first, /\b1\/1\b/);
  });

  it('prints the sender’s name and postal return address in the sender block, never an e-mail address', async () => {
    const { text } = await poppler((await makeLetterPdf(letter())).pdf);
    const head = text.slice(0, text.indexOf('AJÁNLOTT'));
    for (const s of ['Hammy Biztosító Zrt.', 'Pf. 123', '1364 Budapest']) assert.ok(head.includes(s), `${s} in the sender block:\n${head}`);
    assert.doesNotMatch(text, /@/);
    const { text: nameOnly } = await poppler((await makeLetterPdf(letter({ sender: { name: 'Hammy Biztosító Zrt.', postalAddress: null } }))).pdf);
    assert.match(nameOnly, /^Hammy Biztosító Zrt\.\s+AJÁNLOTT/);
  });

  it('keeps the address inside the window of a DL envelope (20 mm left, 45 mm top, 85 × 45 mm), a long one too', async () => {
    const mm = (pt: number) => (pt * 25.4) / 72;
    for (const address of ['Fő utca 12. II/3.;1011 Budapest', 'Nagyon hosszú nevű utca és tér sarka 123/B. épület, IV. emelet 12. ajtó;1011 Budapest;Magyarország']) {
      const f = path.join(dir, `${Math.random().toString(36).slice(2)}.pdf`);
      fs.writeFileSync(f, (await makeLetterPdf(letter({ recipientPostalAddress: address }))).pdf);
      const html = (await run('pdftotext', ['-bbox', '-f', '1', '-l', '1', f, '-'])).stdout;
      const words = [...html.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)].map((w) => ({ box: w.slice(1, 5).map(Number).map(mm), word: w[5]! }));
      const inAddress = ['Kovács', 'Őszike', ...address.split(/[; ]/)].filter(Boolean);
      const placed = words.filter((w) => inAddress.includes(w.word) && w.box[1]! > 40 && w.box[1]! < 97 && w.box[0]! < 110);
      assert.equal(placed.length, inAddress.length, `every address word is on the page: ${placed.map((w) => w.word)}`);
      for (const { box: [x0, y0, x1, y1], word } of placed) {
        assert.ok(x0! >= 20 && x1! <= 105 && y0! >= 45 && y1! <= 90, `${word} at ${[x0, y0, x1, y1].map((v) => v!.toFixed(1))} mm is inside the window`);
      }
    }
  });

  it('appends the attachments’ pages in order and counts them', async () => {
    const { pdf, pageCount: n } = await makeLetterPdf(letter({ attachments: [{ fileName: 'minta.pdf', content: file('minta.pdf') }, { fileName: 'test.pdf', content: file('test.pdf') }] }));
    const { pages } = await poppler(pdf);
    assert.equal(n, 3);
    assert.equal(pages, 3);
    assert.match((await poppler(pdf, { first: 1, last: 1 })).text, /Kovács Őszike/);
    assert.match((await poppler(pdf, { first: 2, last: 2 })).text, /Minta dokumentum/);
    assert.match((await poppler(pdf, { first: 3, last: 3 })).text, /Teszt dokumentum/);
  });

  it('refuses an attachment that is not a PDF, naming the file', async () => {
    await assert.rejects(makeLetterPdf(letter({ attachments: [{ fileName: 'image.png', content: file('image.png') }] })), /image\.png/);
    await assert.rejects(makeLetterPdf(letter({ attachments: [{ fileName: 'broken.pdf', content: Buffer.from('%PDF-1.7\nnot really a pdf\n') }] })), /broken\.pdf/);
  });

  it('looksLikePdf (the one PDF test of the gateway) goes by the %PDF- header, allowing whitespace or a BOM before it', () => {
    assert.equal(looksLikePdf(file('minta.pdf')), true);
    assert.equal(looksLikePdf(Buffer.concat([Buffer.from('\uFEFF\r\n  '), file('test.pdf')])), true);
    assert.equal(looksLikePdf(file('image.png')), false);
    assert.equal(looksLikePdf(Buffer.alloc(0)), false);
    assert.equal(looksLikePdf(Buffer.from('<html>%PDF-1.7')), false);
  });

  it('textToPdf renders a message as a plain document', async () => {
    const { text, pages } = await poppler(await textToPdf('Díjértesítő', HUNGARIAN));
    assert.equal(pages, 1);
    assert.ok(text.includes('Díjértesítő') && text.includes(HUNGARIAN), text);
  });
});
