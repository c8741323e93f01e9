import { XMLParser } from 'fast-xml-parser';
for (const o of [{ processEntities: true, htmlEntities: true }]) {
const p = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, ignoreDeclaration: true, ignorePiTags: true, ...o });
console.log(JSON.stringify(p.parse('<DATA><a>Kovács &amp;amp; Tsa &lt;x&gt; &#233;&#x41; &quot;&apos; &foo; &nbsp; &#0; &#x110000;</a></DATA>')));
}
