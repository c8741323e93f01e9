// xmlData: the caller's template data as XML text, parsed safely (no DOCTYPE, no entities) into plain objects.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Issue } from './errors.js';

const options = {
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  // DOCTYPE is refused before parsing, so no declared entity can expand: only the predefined, numeric and
  // HTML named references are decoded (`&amp;` must reach the template as `&`, not as "&amp;" in text and
  // "&amp;amp;" in HTML; the SOAP adapter re-serialises xmlData with `&` escaped).
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
};
const parser = new XMLParser(options);
// Text without `&` holds no reference to decode; the parser that skips decoding gives the same objects about
// five times faster (fast-xml-parser builds its HTML entity table again for every document it decodes).
const plainParser = new XMLParser({ ...options, processEntities: false, htmlEntities: false });

export type XmlObject = { [key: string]: XmlValue };
export type XmlValue = string | XmlObject | XmlValue[];

/** Parses xmlData; its root element becomes a key (`<DATA><a>1</a></DATA>` → `{ DATA: { a: '1' } }`). */
export function parseXmlData(xml: string | undefined, field = 'xmlData'): { data: XmlObject; issues: Issue[] } {
  if (xml === undefined || xml.trim() === '') return { data: {}, issues: [] };
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    return { data: {}, issues: [{ code: 1, field, text: `${field} must not contain DOCTYPE or entity declarations` }] };
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const e = valid.err;
    return { data: {}, issues: [{ code: 1, field, text: `${field} is not well-formed XML: ${e.msg} (line ${e.line}, column ${e.col})` }] };
  }
  let data: XmlObject;
  try {
    data = (xml.includes('&') ? parser : plainParser).parse(xml) as XmlObject;
  } catch (e) {
    // e.g. an element named __proto__ or constructor, which the parser refuses: the caller's mistake, not ours.
    return { data: {}, issues: [{ code: 1, field, text: `${field} cannot be used as template data: ${(e as Error).message}` }] };
  }
  return { data: typeof data === 'object' && data ? data : {}, issues: [] };
}
