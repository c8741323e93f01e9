// Nothing internal leaks to callers (issue 15 point 6): status event reasons carry no SQL or file path (the log
// has the detail, with the messageId), an SMTP reply is shown cleaned and cut, and /health shows states, not paths.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { api } from '../helpers/api.js';
import { DEMO_KEY, eventually, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/rest.js';

const direct = { recipientName: 'Titok Tamás', recipientEmailAddress: 'titok@example.com', mailSubject: 'Helló', mailBody: 'levél' };
const INTERNAL = /insert into|print_items|select |\bSQL\b|\/tmp\/|\/[\w.-]+\/[\w.-]+|\bat \w+ \(|\.(ts|js):\d+/i;

/** A logger that keeps every line, to show the detail is logged where the caller cannot see it. */
function capturedLog() {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const eventsOf = async (gw: TestGateway, id: number) => (await api(gw.url, `/hammy/json/send/v2/messages/${id}`, { key: DEMO_KEY })).body.data.attributes.events as { status: string; reason: string | null }[];

describe('nothing internal leaks to callers', function () {
  this.timeout(60000);

  describe('with SMTP', () => {
    let gw: TestGateway;
    let logged: ReturnType<typeof capturedLog>;
    before(async () => {
      logged = capturedLog();
      gw = await startTestGateway({ RETRY_MAX_ATTEMPTS: '2' }, { log: logged.log });
    });
    after(async () => gw?.stop());

    it('a database error while delivering (the print_items insert fails) shows no SQL in the timeline; the log has it with the messageId', async () => {
      // The letter is written, then its print_items row is refused by the database: an error no step expects.
      await gw.db.knex.raw('alter table print_items add constraint leak_test check (page_count < 0)');
      const r = await postJson(gw.url, { ...direct, channel: 'POST', recipientPostalAddress: 'Fő utca 1.;1011 Budapest', letterType: 'NORMAL' }, { 'X-Client-Hash-Key': DEMO_KEY });
      assert.equal(r.status, 200, r.text);
      const id = r.json.messageId as number;
      await waitForStatus(gw, id, 'RETRYING');
      const events = await eventsOf(gw, id);
      const reasons = events.map((e) => e.reason).filter(Boolean) as string[];
      assert.ok(reasons.length > 0);
      for (const reason of reasons) assert.doesNotMatch(reason, INTERNAL, reason);
      assert.match(reasons.join(' | '), /unexpected error; the gateway log has the detail/);
      const line = await eventually(async () => logged.lines.find((l) => l.messageId === id && /print_items/.test(JSON.stringify(l.err ?? ''))), 5000, 'the logged detail');
      assert.match(line.err.message, /insert into "print_items"/);
      await gw.db.knex.raw('alter table print_items drop constraint leak_test');
    });

    it('an SMTP 550 is shown with its code and text, without control characters, cut to 200 characters', async () => {
      gw.smtp.script = { onData: () => ({ code: 550, text: `mailbox \u001b[31mgone\u001b[0m\u0007 ${'x'.repeat(400)}` }) };
      try {
        const r = await postJson(gw.url, direct, { 'X-Client-Hash-Key': DEMO_KEY });
        await waitForStatus(gw, r.json.messageId, 'FAILED');
        const failed = (await eventsOf(gw, r.json.messageId)).find((e) => e.status === 'FAILED')!;
        assert.match(failed.reason!, /^SMTP 550: 550 mailbox \[31mgone \[0m x+$/);
        assert.doesNotMatch(failed.reason!, /[\u0000-\u001f\u007f]/);
        assert.ok(failed.reason!.length <= 'SMTP 550: '.length + 200, `${failed.reason!.length} characters`);
      } finally {
        gw.smtp.script = {};
      }
    });
  });

  describe('with .eml files (no SMTP_URL)', () => {
    let gw: TestGateway;
    let logged: ReturnType<typeof capturedLog>;
    before(async () => {
      logged = capturedLog();
      gw = await startTestGateway({ SMTP_URL: undefined as unknown as string }, { log: logged.log });
    });
    after(async () => gw?.stop());

    it('/health shows each folder as a state, never its path', async () => {
      const h = await (await fetch(`${gw.url}/health`)).json();
      const text = JSON.stringify(h);
      assert.ok(!text.includes(gw.dataDir), text);
      assert.doesNotMatch(text, /"\/|\s\/[\w.-]+\//, text);
      assert.equal(h.parts.archive, 'not made yet');
      assert.match(h.parts.email, /^eml files, /);
    });

    it('an e-mail outbox that cannot be made (a file in its place) shows no path in the timeline; the log has it', async () => {
      fs.mkdirSync(path.join(gw.dataDir, 'outbox'), { recursive: true });
      fs.writeFileSync(path.join(gw.dataDir, 'outbox', 'email'), 'in the way');
      const h = await (await fetch(`${gw.url}/health`)).json();
      assert.equal(h.parts.email, 'eml files, not writable');
      const r = await postJson(gw.url, direct, { 'X-Client-Hash-Key': DEMO_KEY });
      assert.equal(r.status, 200, r.text);
      const id = r.json.messageId as number;
      await waitForStatus(gw, id, 'RETRYING');
      const retrying = (await eventsOf(gw, id)).find((e) => e.status === 'RETRYING')!;
      assert.match(retrying.reason!, /^e-mail outbox not writable: E[A-Z]+$/);
      assert.doesNotMatch(retrying.reason!, INTERNAL);
      const line = await eventually(async () => logged.lines.find((l) => l.messageId === id && l.err), 5000, 'the logged detail');
      assert.ok(JSON.stringify(line.err).includes(path.join(gw.dataDir, 'outbox', 'email')), 'the log names the path');
    });
  });
});
