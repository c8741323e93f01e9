// Rendering (SPEC §4 step 2): template data precedence, strict variables (code 3), HTML escaping, compile errors, caching.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SendError, TemplateError, UnknownTemplate } from '../../src/core/errors.js';
import { compiledTemplates, compileTemplate, RENDER_CACHE_ENTRIES, renderTemplate, templateData, type TemplateVersion } from '../../src/core/render.js';
import { SendRequestSchema, type SendRequest } from '../../src/core/send-request.js';
import { parseXmlData } from '../../src/core/xml-data.js';

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures');
const SAMPLE_XML = '<DATA><contractNumber>10000001</contractNumber><clientID>9000001</clientID></DATA>';

// Compiled templates are cached by id for the whole process: every template here gets its own id.
let nextId = 910_000;
function template(subject: string, textBody: string | null = null, htmlBody: string | null = null, over: Partial<TemplateVersion> = {}): TemplateVersion {
  return { id: nextId++, messageType: 'UNIT.TEST', version: 1, subject, textBody, htmlBody, defaultChannel: null, ...over };
}
/** The demo template TEST.MAIL version n as stored from fixtures/demo. */
function demoTemplate(type: string, version: number): TemplateVersion {
  const dir = path.join(FIXTURES, 'demo', 'templates', type, String(version));
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return template(read('subject.hbs'), read('text.hbs'), read('html.hbs'), { messageType: type, version });
}
const request = (over: Record<string, unknown> = {}): SendRequest =>
  SendRequestSchema.parse({
    clientHashKey: 'aa87cd4bcd3445bbc4',
    recipientName: 'NAME',
    recipientEmailAddress: 'emailaddress@dbx.hu',
    messageType: 'TEST.MAIL',
    ...over,
  });
const xml = (text: string) => {
  const r = parseXmlData(text);
  assert.deepEqual(r.issues, []);
  return r.data;
};

function renderError(t: TemplateVersion, data: Record<string, unknown>): TemplateError {
  try {
    renderTemplate(t, data);
  } catch (e) {
    assert.ok(e instanceof TemplateError, `expected TemplateError, got ${String(e)}`);
    return e;
  }
  return assert.fail('expected the render to fail');
}

describe('templateData (SPEC §4 step 2)', () => {
  it('holds the request fields, the properties by key and the xmlData root element', () => {
    const req = request({ requestId: 'r1', partnerRef: 'partner1234', properties: [{ key: 'AKARMI_PROPERTY', value: 'egy valami' }] });
    const data = templateData(req, xml(SAMPLE_XML));
    assert.equal(data.recipientName, 'NAME');
    assert.equal(data.requestId, 'r1');
    assert.equal(data.partnerRef, 'partner1234');
    assert.equal(data.AKARMI_PROPERTY, 'egy valami');
    assert.deepEqual(data.DATA, { contractNumber: '10000001', clientID: '9000001' });
  });

  it('leaves out the lists, the raw xmlData and absent fields', () => {
    const req = request({ xmlData: SAMPLE_XML, params: [{ key: 'DRY_RUN', value: 'true' }] });
    const data = templateData(req, {});
    for (const k of ['attachments', 'properties', 'params', 'xmlData', 'batchId', 'mailSubject']) assert.ok(!(k in data), `${k} is not template data`);
  });

  it('precedence: request fields < properties < xmlData root key', () => {
    const req = request({
      batchId: 'from-request',
      properties: [
        { key: 'recipientName', value: 'from property' },
        { key: 'DATA', value: 'property DATA' },
        { key: 'batchId', value: 'from property too' },
      ],
    });
    const data = templateData(req, { DATA: { contractNumber: '1' }, recipientName: 'from xml' });
    assert.equal(data.recipientName, 'from xml');
    assert.deepEqual(data.DATA, { contractNumber: '1' });
    assert.equal(data.batchId, 'from property too');
    assert.equal(data.recipientEmailAddress, 'emailaddress@dbx.hu');
  });
});

describe('renderTemplate', () => {
  it('renders the demo TEST.MAIL v1 with the Hammy sample xmlData', () => {
    const r = renderTemplate(demoTemplate('TEST.MAIL', 1), templateData(request(), xml(SAMPLE_XML)));
    assert.equal(r.subject, 'Tesztlevél a(z) 10000001 számú szerződéshez');
    assert.match(r.text!, /^Kedves NAME!\n/);
    assert.match(r.text!, /10000001 számú szerződésével/);
    assert.match(r.text!, /Ügyfélazonosító: 9000001/);
    assert.match(r.html!, /<b>10000001<\/b>/);
    assert.match(r.html!, /<b>9000001<\/b>/);
  });

  it('renders the demo 351.DI v1 from properties', () => {
    const req = request({
      messageType: '351.DI',
      properties: [
        { key: 'CIMZETT_NEVE', value: 'Kiss Béla' },
        { key: 'SZERZODES_AZON', value: 'SZ-1' },
        { key: 'NYOMT_AZON', value: 'NY-9' },
      ],
    });
    const r = renderTemplate(demoTemplate('351.DI', 1), templateData(req, {}));
    assert.equal(r.subject, 'NY-9 – SZ-1 számú szerződés');
    assert.match(r.text!, /Tisztelt Kiss Béla!/);
    assert.match(r.html!, /<b>SZ-1<\/b>/);
  });

  it('a template without text or HTML part renders null for it; the subject is trimmed', () => {
    assert.deepEqual(renderTemplate(template('  Tárgy {{x}}\n'), { x: '1' }), { subject: 'Tárgy 1', text: null, html: null });
  });

  it('an empty string is a value, not a missing variable', () => {
    assert.deepEqual(renderTemplate(template('[{{x}}]', '{{x}}.'), { x: '' }), { subject: '[]', text: '.', html: null });
  });

  it('HTML output is escaped; subject and text are not', () => {
    const t = template('Re: {{DATA.name}}', 'Hello {{DATA.name}}', '<p>Hello {{DATA.name}}</p>');
    const r = renderTemplate(t, { DATA: { name: `<script>alert("x")</script> & 'co'` } });
    assert.equal(r.subject, `Re: <script>alert("x")</script> & 'co'`);
    assert.equal(r.text, `Hello <script>alert("x")</script> & 'co'`);
    assert.equal(r.html, '<p>Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;co&#x27;</p>');
    assert.ok(!r.html!.includes('<script>'));
  });

  it('xmlData entities reach the template decoded: escaped once in HTML, plain in text', () => {
    const data = templateData(request(), xml('<DATA><name>Kovács &amp; Tsa &lt;Kft&gt;</name></DATA>'));
    const r = renderTemplate(template('{{DATA.name}}', '{{DATA.name}}', '<b>{{DATA.name}}</b>'), data);
    assert.equal(r.subject, 'Kovács & Tsa <Kft>');
    assert.equal(r.text, 'Kovács & Tsa <Kft>');
    assert.equal(r.html, '<b>Kovács &amp; Tsa &lt;Kft&gt;</b>');
  });
});

describe('renderTemplate: strict variables (code 3)', () => {
  it('a variable the data lacks is TemplateError code 3 naming it, not an empty string', () => {
    const e = renderError(demoTemplate('TEST.MAIL', 1), templateData(request(), xml('<DATA><contractNumber>10000001</contractNumber></DATA>')));
    assert.ok(e instanceof SendError);
    assert.equal(e.status, 3);
    assert.equal(e.issues.length, 1);
    assert.equal(e.issues[0]!.code, 3);
    assert.equal(e.issues[0]!.field, 'xmlData');
    assert.equal(e.issues[0]!.text, 'template TEST.MAIL v1 (text) needs the variable DATA.clientID, which the request does not provide');
  });

  it('a missing root element: the full path is named, not only its last segment', () => {
    const e = renderError(demoTemplate('TEST.MAIL', 1), templateData(request(), xml('<data><contractNumber>1</contractNumber></data>')));
    assert.equal(e.status, 3);
    assert.equal(e.issues[0]!.text, 'template TEST.MAIL v1 (subject) needs the variable DATA.contractNumber, which the request does not provide');
  });

  it('names the variable at its place in a multi-line template, inside blocks', () => {
    const t = template('ok', 'Dear {{recipientName}},\n{{#if DATA}}\n  {{#each DATA.items}}{{name}}: {{price}}\n{{/each}}{{/if}}', null, { version: 2 });
    const e = renderError(t, { recipientName: 'N', DATA: { items: [{ name: 'a', price: '1' }, { name: 'b' }] } });
    assert.equal(e.issues[0]!.text, 'template UNIT.TEST v2 (text) needs the variable price, which the request does not provide');
  });

  it('a missing top-level variable in the HTML part', () => {
    const e = renderError(template('ok', 'ok', '<p>{{KEDVEZMENY}}</p>', { messageType: 'X.Y', version: 4 }), {});
    assert.equal(e.issues[0]!.code, 3);
    assert.equal(e.issues[0]!.text, 'template X.Y v4 (html) needs the variable KEDVEZMENY, which the request does not provide');
  });

  it('nested data under a plain value is a code-3 error as well', () => {
    const e = renderError(template('{{DATA.a.b}}'), { DATA: { a: 'text' } });
    assert.equal(e.status, 3);
  });

  it('optional sections may test for data that is absent', () => {
    const t = template('x{{#if DATA.discount}} -{{DATA.discount}}%{{/if}}');
    assert.equal(renderTemplate(t, { DATA: {} }).subject, 'x');
    assert.equal(renderTemplate(t, { DATA: { discount: '5' } }).subject, 'x -5%');
  });
});

describe('compileTemplate', () => {
  const compileError = (t: Parameters<typeof compileTemplate>[0]) => {
    try {
      compileTemplate(t);
    } catch (e) {
      assert.ok(e instanceof TemplateError, `expected TemplateError, got ${String(e)}`);
      return e;
    }
    return assert.fail('expected the template to be refused');
  };

  it('compiles a good template into functions for each part present', () => {
    const c = compileTemplate({ subject: 'S {{a}}', textBody: 'T {{a}}', htmlBody: null });
    assert.equal(c.subject({ a: 1 }), 'S 1');
    assert.equal(c.text!({ a: 2 }), 'T 2');
    assert.equal(c.html, undefined);
  });

  it('refuses a broken subject with code 3, naming the part (not messageType: the type exists)', () => {
    const e = compileError({ subject: 'Tárgy {{#if x}}', textBody: null, htmlBody: null });
    assert.ok(e instanceof TemplateError && !(e instanceof UnknownTemplate));
    assert.equal(e.status, 3);
    assert.equal(e.issues[0]!.code, 3);
    assert.equal(e.issues[0]!.field, 'subject');
    assert.match(e.issues[0]!.text, /^template subject does not compile: /);
  });

  it('refuses a broken text or HTML part', () => {
    assert.match(compileError({ subject: 'ok', textBody: 'x {{a', htmlBody: null }).issues[0]!.text, /^template text does not compile: /);
    assert.match(compileError({ subject: 'ok', textBody: null, htmlBody: '{{#each items}}<li>' }).issues[0]!.text, /^template html does not compile: /);
    assert.match(compileError({ subject: 'ok', textBody: null, htmlBody: '{{/if}}' }).issues[0]!.text, /^template html does not compile: /);
  });

  it('renderTemplate of a broken template is a code-3 error, and a fixed one under the same id renders', () => {
    const broken = template('{{#if x}}');
    assert.throws(() => renderTemplate(broken, { x: 1 }), (e: unknown) => e instanceof TemplateError && e.status === 3);
    assert.equal(renderTemplate({ ...broken, subject: 'fixed {{x}}' }, { x: 1 }).subject, 'fixed 1');
  });
});

describe('renderTemplate: caching', () => {
  it('does not leak a compiled template across template ids', () => {
    const a = template('A {{x}}', 'text A {{x}}', '<i>A {{x}}</i>');
    const b = template('B {{x}}', 'text B {{x}}', '<i>B {{x}}</i>');
    assert.deepEqual(renderTemplate(a, { x: 1 }), { subject: 'A 1', text: 'text A 1', html: '<i>A 1</i>' });
    assert.deepEqual(renderTemplate(b, { x: 2 }), { subject: 'B 2', text: 'text B 2', html: '<i>B 2</i>' });
    assert.deepEqual(renderTemplate(a, { x: 3 }), { subject: 'A 3', text: 'text A 3', html: '<i>A 3</i>' });
  });

  it('does not leak data between renders of one cached template', () => {
    const t = template('{{x}}', null, '<b>{{x}}</b>');
    assert.equal(renderTemplate(t, { x: 'first' }).subject, 'first');
    assert.equal(renderTemplate(t, { x: 'second' }).html, '<b>second</b>');
    assert.throws(() => renderTemplate(t, {}), TemplateError);
  });

  it('the same id with other sources (another database schema in this process) renders the other sources', () => {
    const first = template('first {{x}}');
    assert.equal(renderTemplate(first, { x: 1 }).subject, 'first 1');
    assert.equal(renderTemplate({ ...first, subject: 'second {{x}}' }, { x: 1 }).subject, 'second 1');
    assert.equal(renderTemplate(first, { x: 1 }).subject, 'first 1');
  });
});

describe('renderTemplate: bounds (one render cannot stall the process)', () => {
  const overBound = (t: TemplateVersion, data: Record<string, unknown>, bounds: { maxBytes: number; maxMs: number }) => {
    try {
      renderTemplate(t, data, bounds);
    } catch (e) {
      assert.ok(e instanceof TemplateError, `expected TemplateError, got ${String(e)}`);
      return e;
    }
    return assert.fail('expected the render to be over its bound');
  };
  const list = (n: number) => Array.from({ length: n }, (_, i) => `item ${i}`);

  it('nested each past the time bound: code 3 naming the template, the part and the bound', () => {
    const t = template('s', '{{#each a}}{{#each ../a}}{{#each ../a}}{{#each ../a}}<p>{{this}}</p>{{/each}}{{/each}}{{/each}}{{/each}}', null, { messageType: 'NEST.EACH', version: 3 });
    const e = overBound(t, { a: list(60) }, { maxBytes: 1024 ** 3, maxMs: 20 });
    assert.equal(e.status, 3);
    assert.equal(e.issues[0]!.field, 'xmlData');
    assert.equal(e.issues[0]!.text, 'template NEST.EACH v3 (text) is over the render bound (time: it took longer than 20 ms)');
  });

  it('nested each past the size bound: the block bodies are counted as they finish', () => {
    const t = template('s', null, '{{#each a}}{{#each ../a}}<p>{{this}}</p>{{/each}}{{/each}}');
    const e = overBound(t, { a: list(300) }, { maxBytes: 100_000, maxMs: 60_000 });
    assert.match(e.issues[0]!.text, /\(html\) is over the render bound \(output size: it makes more than 100000 bytes of text\)$/);
  });

  it('many {{x}} of a large value in one body is over the size bound without building the text', () => {
    const t = template('{{x}}'.repeat(500), '{{{x}}}'.repeat(500), '{{x}}'.repeat(500));
    const e = overBound(t, { x: 'a<'.repeat(50_000) }, { maxBytes: 1_000_000, maxMs: 60_000 });
    assert.match(e.issues[0]!.text, /\(subject\) is over the render bound \(output size/);
  });

  it('partials that call each other many times, or themselves for ever, are bounded', () => {
    const inline = (name: string, body: string) => `{{#*inline "${name}"}}${body}{{/inline}}`;
    const bomb = template('s', inline('a', 'x'.repeat(1000)) + inline('b', '{{> a}}'.repeat(300)) + inline('c', '{{> b}}'.repeat(300)) + '{{> c}}');
    assert.match(overBound(bomb, {}, { maxBytes: 1_000_000, maxMs: 60_000 }).issues[0]!.text, /\(text\) is over the render bound \(output size/);
    const forever = template('s', inline('r', 'a{{> r}}') + '{{> r}}');
    assert.match(overBound(forever, {}, { maxBytes: 1_000_000, maxMs: 60_000 }).issues[0]!.text, /\(text\) is over the render bound/);
  });

  it('the finished text is measured in UTF-8 bytes', () => {
    const t = template('s', '{{x}}');
    assert.equal(renderTemplate(t, { x: 'é'.repeat(600) }, { maxBytes: 1200, maxMs: 60_000 }).text, 'é'.repeat(600));
    assert.match(overBound(t, { x: 'é'.repeat(601) }, { maxBytes: 1200, maxMs: 60_000 }).issues[0]!.text, /output size/);
  });

  it('{{log}} is not a helper: a template cannot write to the gateway\'s output', () => {
    const t = { id: 9301, messageType: 'LOG', version: 1, subject: 's', textBody: '{{log "secret" level="error"}}x', htmlBody: null, defaultChannel: null };
    const written: unknown[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => void written.push(a);
    try {
      assert.throws(() => renderTemplate(t, {}), TemplateError);
    } finally {
      console.error = orig;
    }
    assert.deepEqual(written, []);
  });

  it('a 1,000-row table renders whole within the default bounds, as before', () => {
    const t = template('{{DATA.title}}', null, '<table>{{#each DATA.row}}<tr><td>{{@index}}</td><td>{{name}}</td><td>{{amount}}</td></tr>{{/each}}</table>');
    const row = Array.from({ length: 1000 }, (_, i) => ({ name: `name ${i} & co`, amount: String(i * 7) }));
    const r = renderTemplate(t, { DATA: { title: 'Rows', row } });
    assert.equal(r.html!.match(/<tr>/g)!.length, 1000);
    assert.ok(r.html!.includes('<tr><td>999</td><td>name 999 &amp; co</td><td>6993</td></tr>'));
  });

  it(`keeps at most ${RENDER_CACHE_ENTRIES} compiled versions, the least recently used going first`, () => {
    const data = templateData(request(), {});
    const kept = template('kept {{recipientName}}');
    renderTemplate(kept, data);
    for (let i = 0; i < RENDER_CACHE_ENTRIES + 200; i++) {
      renderTemplate(template(`subject ${i} {{recipientName}}`), data);
      if (i % 100 === 0) renderTemplate(kept, data); // used now and then: never the least recent
      assert.ok(compiledTemplates() <= RENDER_CACHE_ENTRIES, `${compiledTemplates()} compiled after ${i + 1}`);
    }
    assert.equal(compiledTemplates(), RENDER_CACHE_ENTRIES);
    assert.equal(renderTemplate(kept, data).subject, 'kept NAME');
  });
});
