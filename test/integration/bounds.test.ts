// Bounds on rendering and XML parsing, through the real wire: one request cannot stall the others, and a
// request that can never pass is code 1 or 3 (the caller's), not 9 ("safe to retry").
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AMQP_URL, Producer, queueConsumed } from '../helpers/amqp.js';
import { api, problemMessages } from '../helpers/api.js';
import { DEMO_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

const T = '/hammy/json/send/v2/templates';
const doc = (attributes: Record<string, unknown>) => ({ data: { type: 'templates', attributes } });
const DEEP = '<DATA>' + '<a>'.repeat(100_000) + '</a>'.repeat(100_000) + '</DATA>';
const fields = { clientHashKey: DEMO_KEY, messageType: 'TEST.MAIL', recipientName: 'X', recipientEmailAddress: 'x@example.com' };

describe('bounds: rendering and XML parsing', function () {
  this.timeout(120000);
  let gw: TestGateway;
  let producer: Producer;
  const queue = `bounds.${randomBytes(3).toString('hex')}`;
  const addTemplate = async (messageType: string, parts: Record<string, string>) => {
    const r = await api(gw.url, T, { key: DEMO_KEY, body: doc({ messageType, subject: 's', ...parts }) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.data.attributes.version as number;
  };
  const preview = (messageType: string, xmlData: string) =>
    api(gw.url, `${T}/${messageType}/preview`, { key: DEMO_KEY, contentType: 'application/json', body: { recipientName: 'X', xmlData } });

  before(async () => {
    gw = await startTestGateway({ AMQP_URL, AMQP_QUEUE: queue });
    producer = await Producer.open();
    await queueConsumed(gw.url);
  });
  after(async () => {
    await producer?.removeAndClose(queue);
    await gw?.stop();
  });

  describe('rendering', () => {
    it('a preview with nested each (2 kB in, 15 MB out) is 400 code 3 naming the template, and /health answers meanwhile', async () => {
      const version = await addTemplate('NEST.EACH', { textBody: '{{#each DATA.a}}{{#each @root.DATA.a}}{{#each @root.DATA.a}}<p>{{this}}</p>{{/each}}{{/each}}{{/each}}' });
      const xmlData = '<DATA>' + Array.from({ length: 100 }, (_, i) => `<a>v${i}</a>`).join('') + '</DATA>';
      assert.ok(xmlData.length < 2048);
      let done = false;
      const pending = preview('NEST.EACH', xmlData).finally(() => (done = true));
      const health: number[] = [];
      while (!done) {
        health.push((await fetch(`${gw.url}/health`)).status);
        await new Promise((r) => setTimeout(r, 10));
      }
      const p = await pending;
      assert.equal(p.status, 400, JSON.stringify(p.body).slice(0, 500));
      assert.equal(p.body.code, 3);
      assert.equal(problemMessages(p.body)[0]!.field, 'xmlData');
      assert.equal(problemMessages(p.body)[0]!.text, `template NEST.EACH v${version} (text) is over the render bound (time: it took longer than 100 ms)`);
      assert.ok(health.length >= 1 && health.every((s) => s === 200), String(health));
    });

    it('many {{x}} of a large value is bounded by the output size: 400 code 3', async () => {
      await addTemplate('MANY.X', { textBody: '{{DATA.x}}\n'.repeat(1000), htmlBody: '<p>{{DATA.x}}</p>'.repeat(1000) });
      const p = await preview('MANY.X', `<DATA><x>${'y&amp;'.repeat(20_000)}</x></DATA>`);
      assert.equal(p.status, 400);
      assert.equal(p.body.code, 3);
      assert.match(problemMessages(p.body)[0].text, /^template MANY\.X v1 \(text\) is over the render bound \(output size: it makes more than 4194304 bytes of text\)$/);
    });

    it('a normal template with a 1,000-row each still renders whole', async () => {
      await addTemplate('ROWS', { htmlBody: '<table>{{#each DATA.row}}<tr><td>{{name}}</td><td>{{amount}}</td></tr>{{/each}}</table>' });
      const rows = Array.from({ length: 1000 }, (_, i) => `<row><name>name ${i}</name><amount>${i * 3}</amount></row>`).join('');
      const p = await preview('ROWS', `<DATA>${rows}</DATA>`);
      assert.equal(p.status, 200, JSON.stringify(p.body).slice(0, 500));
      assert.equal(p.body.data.attributes.htmlBody.match(/<tr>/g).length, 1000);
      assert.ok(p.body.data.attributes.htmlBody.endsWith('<tr><td>name 999</td><td>2997</td></tr></table>'));
    });

    it('a huge template source, or one with too many expressions, is code 1 naming the field', async () => {
      const huge = await api(gw.url, T, { key: DEMO_KEY, body: doc({ messageType: 'HUGE', subject: 's', textBody: 'x'.repeat(300 * 1024) }) });
      assert.equal(huge.status, 400);
      assert.deepEqual(problemMessages(huge.body).map((m: any) => [m.code, m.field, m.text]), [[1, 'textBody', 'textBody must be at most 262144 bytes']]);
      const many = await api(gw.url, T, { key: DEMO_KEY, body: doc({ messageType: 'HUGE', subject: 's', htmlBody: '{{x}}'.repeat(1001) }) });
      assert.equal(many.status, 400);
      assert.deepEqual(problemMessages(many.body).map((m: any) => [m.code, m.field]), [[1, 'htmlBody']]);
    });
  });

  describe('XML parsing', () => {
    it('SOAP: a 100,000-deep xmlData (inline or as text) is a sendMailResponse with code 1 on xmlData, not 9', async () => {
      for (const r of [await postSoap(gw.url, envelope('sendMail', fields, { xmlData: DEEP })), await postSoap(gw.url, envelope('sendMail', { ...fields, xmlData: DEEP }))]) {
        assert.equal(r.fault, undefined, r.raw.slice(0, 300));
        assert.equal(r.code, 1, r.raw.slice(0, 500));
        assert.equal(r.messages[0]!.field, 'xmlData');
      }
    });

    it('SOAP: xmlData with more elements than the bound is code 1 on xmlData', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', fields, { xmlData: '<DATA>' + '<a/>'.repeat(30_000) + '</DATA>' }));
      assert.equal(r.code, 1, r.raw.slice(0, 500));
      assert.equal(r.messages[0]!.text, 'xmlData has more than 20000 elements');
    });

    it('SOAP: an envelope nested beyond the bound outside xmlData is a soap:Client Fault', async () => {
      const r = await postSoap(gw.url, envelope('sendMail', fields, { userName: '<a>'.repeat(100_000) + '</a>'.repeat(100_000) }));
      assert.equal(r.fault?.faultcode, 'soap:Client', r.raw.slice(0, 300));
      assert.match(r.fault!.faultstring, /deeper than 100 levels/);
    });

    it('AMQP: a 100,000-deep xmlData in a JSON and in an XML body is code 1 on xmlData, not 9', async () => {
      const json = await producer.request(queue, JSON.stringify({ ...fields, xmlData: DEEP }));
      assert.equal(json.json.meta.responseStatus.code, 1, json.body.slice(0, 300));
      assert.equal(json.json.meta.responseStatus.messages[0].field, 'xmlData');
      const xml = `<sendMailRequest><messageType>TEST.MAIL</messageType><recipientName>X</recipientName><recipientEmailAddress>x@example.com</recipientEmailAddress><xmlData>${DEEP}</xmlData></sendMailRequest>`;
      const x = await producer.request(queue, xml, { contentType: 'application/xml' });
      assert.match(x.body, /<code>1<\/code>/, x.body.slice(0, 300));
      assert.match(x.body, /<field>xmlData<\/field>/, x.body.slice(0, 300));
    });
  });
});
