// xmlData: the caller's template data as XML text, parsed safely (no DOCTYPE, no entities) into plain objects.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Issue } from './errors.js';

/**
 * Bounds of every XML a caller sends (xmlData, SOAP envelopes, AMQP XML bodies): parsing takes time per
 * element and, in places, stack per level, so past these a request is refused (code 1), never half-parsed.
 */
export const XML_BOUNDS = { maxDepth: 100, maxElements: 20_000 };

/** Elements in a text: every `<` that opens a tag (inside comments and CDATA too: an upper bound). */
export function countElements(xml: string, stopAfter = Infinity): number {
  const opening = /<[^\s<>/!?]/g;
  let n = 0;
  while (n <= stopAfter && opening.exec(xml)) n++;
  return n;
}

export const depthIssue = (field: string): Issue => ({ code: 1, field, text: `${field} nests elements deeper than ${XML_BOUNDS.maxDepth} levels` });
export const countIssue = (field: string): Issue => ({ code: 1, field, text: `${field} has more than ${XML_BOUNDS.maxElements} elements` });

const options = {
  maxNestedTags: XML_BOUNDS.maxDepth,
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
  if (countElements(xml, XML_BOUNDS.maxElements) > XML_BOUNDS.maxElements) return { data: {}, issues: [countIssue(field)] };
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const e = valid.err;
    return { data: {}, issues: [{ code: 1, field, text: `${field} is not well-formed XML: ${e.msg} (line ${e.line}, column ${e.col})` }] };
  }
  let data: XmlObject;
  try {
    data = (xml.includes('&') ? parser : plainParser).parse(xml) as XmlObject;
  } catch (e) {
    if ((e as Error).message === 'Maximum nested tags exceeded') return { data: {}, issues: [depthIssue(field)] };
    // e.g. an element named __proto__ or constructor, which the parser refuses: the caller's mistake, not ours.
    return { data: {}, issues: [{ code: 1, field, text: `${field} cannot be used as template data: ${(e as Error).message}` }] };
  }
  return { data: typeof data === 'object' && data ? data : {}, issues: [] };
}
