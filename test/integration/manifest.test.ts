// The print manifest grows by a whole line per letter (issue 16): appended, not rewritten from the batch each time;
// an append a crash left uncommitted is cut off before the next; a missing manifest is written whole again.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_KEY, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

const HEADER = 'file;letterType;replyEnvelopeAttached;paymentSlipAttached;pageCount;recipientName;recipientPostalAddress;messageId;certified';

describe('print manifest, appended per letter', function () {
  this.timeout(60000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => gw?.stop());

  const letters = async (batchId: string, n: number) => {
    const rs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: `Címzett ${i}`, mailSubject: 'levél', mailBody: 'b', channel: 'POST', recipientPostalAddress: 'Fő utca 1.;1011 Budapest', letterType: 'NORMAL', batchId })),
      ),
    );
    for (const r of rs) await waitForStatus(gw, r.messageId, 'SENT');
    return rs.map((r) => r.messageId);
  };
  const manifestOf = (batchId: string) => path.join(gw.config.printDir, `client1-${batchId}`, 'manifest.csv');
  const idsIn = (file: string) => fs.readFileSync(file, 'utf8').split('\n').slice(1, -1).map((l) => Number(l.split(';')[7]));
  const recorded = async (batchId: string) => Number((await gw.db.knex('print_manifests').where({ batch_key: `client1-${batchId}` }).first()).bytes);

  it('20 letters at once, then 5 more: one whole line each, the same file grown in place (not replaced), its length recorded', async () => {
    const first = await letters('APPEND', 20);
    const file = manifestOf('APPEND');
    const inode = fs.statSync(file).ino;
    const more = await letters('APPEND', 5);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.startsWith(`${HEADER}\n`) && text.endsWith('\n'));
    assert.deepEqual(idsIn(file).sort((a, b) => a - b), [...first, ...more].sort((a, b) => a - b), 'every letter once');
    assert.equal(fs.statSync(file).ino, inode, 'appended to, not written anew and renamed');
    assert.equal(await recorded('APPEND'), fs.statSync(file).size);
  });

  it('a half line left by an append whose commit never came is cut off before the next line', async () => {
    const [a] = await letters('TORN', 1);
    const file = manifestOf('TORN');
    fs.appendFileSync(file, 'half-a-line;NORM'); // what a crash between the write and the commit leaves
    const [b] = await letters('TORN', 1);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    assert.deepEqual(lines.slice(1, -1).map((l) => Number(l.split(';')[7])), [a, b]);
    assert.ok(!lines.some((l) => l.includes('half-a-line')));
    assert.equal(await recorded('TORN'), fs.statSync(file).size);
  });

  it('a recipient name with the separator or a quote is one quoted field (RFC 4180, ";" separated; names have no line breaks)', async () => {
    const name = 'Kovács; "Öcsi" Őszike';
    const r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: name, mailSubject: 'levél', mailBody: 'b', channel: 'POST', recipientPostalAddress: 'Fő utca 1.;1011 Budapest', letterType: 'REGISTERED', batchId: 'QUOTED' }));
    assert.equal(r.code, 0, r.raw);
    await waitForStatus(gw, r.messageId!, 'SENT');
    const text = fs.readFileSync(manifestOf('QUOTED'), 'utf8');
    const { page_count } = await gw.db.knex('print_items').where({ message_id: r.messageId }).first('page_count');
    assert.equal(text, `${HEADER}\n${r.messageId}.pdf;REGISTERED;false;false;${page_count};"Kovács; ""Öcsi"" Őszike";Fő utca 1. | 1011 Budapest;${r.messageId};false\n`);
  });

  it('a manifest that went missing is written whole again with the next letter', async () => {
    const before = await letters('GONE', 2);
    fs.rmSync(manifestOf('GONE'));
    const after = await letters('GONE', 1);
    assert.deepEqual(idsIn(manifestOf('GONE')).sort((a, b) => a - b), [...before, ...after].sort((a, b) => a - b));
  });
});
