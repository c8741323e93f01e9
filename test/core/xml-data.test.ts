// xmlData parsing (SPEC §1, §4 step 2): the root element is a key; malformed or hostile XML is a code-1 issue, never a crash.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseXmlData } from '../../src/core/xml-data.js';

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures');
const fixture = (...p: string[]) => fs.readFileSync(path.join(FIXTURES, ...p), 'utf8');
const SAMPLE_XML = '<DATA><contractNumber>10000001</contractNumber><clientID>9000001</clientID></DATA>';
const NO_DOCTYPE = { code: 1, field: 'xmlData', text: 'xmlData must not contain DOCTYPE or entity declarations' };

describe('parseXmlData', () => {
  it('parses the Hammy sample: the root element is a key, values stay strings', () => {
    assert.deepEqual(parseXmlData(SAMPLE_XML), { data: { DATA: { contractNumber: '10000001', clientID: '9000001' } }, issues: [] });
  });

  it('parses the sample as SOAP carries it: declaration, line breaks and indentation', () => {
    assert.deepEqual(parseXmlData(fixture('xml', 'sample-data.xml')), {
      data: { DATA: { contractNumber: '10000001', clientID: '9000001' } },
      issues: [],
    });
  });

  it('keeps leading zeros and number-like text as written', () => {
    assert.deepEqual(parseXmlData('<DATA><zip>01011</zip><amount>1e3</amount><flag>true</flag></DATA>').data, {
      DATA: { zip: '01011', amount: '1e3', flag: 'true' },
    });
  });

  it('empty input is no data and no issue', () => {
    for (const empty of [undefined, '', '   \n\t ']) assert.deepEqual(parseXmlData(empty), { data: {}, issues: [] });
  });

  it('repeated elements become a list, nested elements objects, attributes are ignored', () => {
    assert.deepEqual(parseXmlData('<DATA kind="x"><item><n>a</n></item><item><n>b</n></item><empty/></DATA>').data, {
      DATA: { item: [{ n: 'a' }, { n: 'b' }], empty: '' },
    });
  });

  it('decodes the predefined and numeric character references once', () => {
    assert.deepEqual(parseXmlData('<DATA><name>Kovács &amp; Tsa &lt;Kft&gt; &quot;x&quot; &apos;y&apos; &#233;&#x151;</name><raw>&amp;amp;</raw></DATA>').data, {
      DATA: { name: `Kovács & Tsa <Kft> "x" 'y' éő`, raw: '&amp;' },
    });
  });

  it('CDATA content is text', () => {
    assert.deepEqual(parseXmlData('<DATA><html><![CDATA[<b>bold</b> & more]]></html></DATA>').data, { DATA: { html: '<b>bold</b> & more' } });
  });

  describe('not well-formed XML is a code-1 issue naming the field and the line', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['a mismatched closing tag on line 2', '<DATA><a>1</a>\n<b></DATA>', /\(line 2, column \d+\)$/],
      ['an unclosed root', '<DATA><a>1</a>', /\(line 1, column \d+\)$/],
      ['two root elements', '<a>1</a><b>2</b>', /Multiple possible root nodes/],
      ['plain text', 'contractNumber=10000001', /\(line 1, column 1\)$/],
      ['a bare ampersand on line 3', '<DATA>\n<a>1</a>\n<b>x & y</b></DATA>', /\(line 3, column \d+\)$/],
    ];
    for (const [name, xml, detail] of cases) {
      it(name, () => {
        const r = parseXmlData(xml);
        assert.deepEqual(r.data, {});
        assert.equal(r.issues.length, 1);
        assert.equal(r.issues[0]!.code, 1);
        assert.equal(r.issues[0]!.field, 'xmlData');
        assert.match(r.issues[0]!.text, /^xmlData is not well-formed XML: /);
        assert.match(r.issues[0]!.text, detail);
      });
    }

    it('names the field it is given', () => {
      const r = parseXmlData('<a>', 'attachments[0].xml');
      assert.equal(r.issues[0]!.field, 'attachments[0].xml');
      assert.match(r.issues[0]!.text, /^attachments\[0\]\.xml is not well-formed XML: /);
    });
  });

  describe('DOCTYPE and ENTITY are refused before parsing', () => {
    for (const file of ['xmldata-billion-laughs.xml', 'xmldata-xxe.xml', 'xmldata-xxe-parameter.xml']) {
      it(`hostile/${file}`, () => {
        const started = Date.now();
        assert.deepEqual(parseXmlData(fixture('hostile', file)), { data: {}, issues: [NO_DOCTYPE] });
        assert.ok(Date.now() - started < 1000, 'refused at once, nothing expanded');
      });
    }

    it('an ENTITY declaration without DOCTYPE, in any case', () => {
      assert.deepEqual(parseXmlData('<DATA><!entity x "y"><a>1</a></DATA>').issues, [NO_DOCTYPE]);
      assert.deepEqual(parseXmlData('<!DocType DATA><DATA/>').issues, [NO_DOCTYPE]);
    });
  });

  it('element names that would reach Object.prototype are a code-1 issue, not a crash or pollution', () => {
    const r = parseXmlData(fixture('hostile', 'xmldata-proto.xml'));
    assert.deepEqual(r.data, {});
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]!.code, 1);
    assert.equal(r.issues[0]!.field, 'xmlData');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(parseXmlData('<DATA><constructor>x</constructor></DATA>').issues[0]?.code, 1);
  });

  it('absurdly deep nesting is a code-1 issue, not a crash', () => {
    const r = parseXmlData(fixture('hostile', 'xmldata-deep.xml'));
    assert.deepEqual(r.data, {});
    assert.equal(r.issues[0]?.code, 1);
    assert.equal(r.issues[0]?.field, 'xmlData');
  });
});

describe('parseXmlData: bounds', () => {
  it('deeper than 100 levels is code 1 on the field, not a crash', () => {
    const at = (n: number) => '<DATA>' + '<a>'.repeat(n) + 'x' + '</a>'.repeat(n) + '</DATA>';
    assert.deepEqual(parseXmlData(at(99)).issues, []);
    assert.deepEqual(parseXmlData(at(5000), 'body').issues, [{ code: 1, field: 'body', text: 'body nests elements deeper than 100 levels' }]);
  });
  it('more than 20,000 elements is code 1, refused before it is parsed', () => {
    assert.deepEqual(parseXmlData('<DATA>' + '<a>x</a>'.repeat(19_999) + '</DATA>').issues, []);
    assert.deepEqual(parseXmlData('<DATA>' + '<a/>'.repeat(100_000) + '</DATA>').issues, [{ code: 1, field: 'xmlData', text: 'xmlData has more than 20000 elements' }]);
  });
});
