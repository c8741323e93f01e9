// The WSDL works with WSDL-driven clients of other ecosystems (SPEC §2): Python zeep and PHP SoapClient
// generate their client from the served WSDL, send, resend, meet a business error and ask getMessageStatus;
// real PostgreSQL, real SMTP.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEMO_KEY, FIXTURES, fixtureBytes, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import type { Received } from '../helpers/smtp-sink.js';

const run = promisify(execFile);
const CLIENTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../clients');
const PYTHON = '/usr/bin/python3'; // Debian's python3, the one python3-zeep installs into
const SUBJECT = 'Tesztlevél a(z) 10000001 számú szerződéshez';

type Answer = { messageId: number | null; code: number | null; messages: { code: number; field: string | null; text: string | null }[]; params: unknown[] };
type StatusAnswer = Omit<Answer, 'params'> & { messageStatus: string | null; final: boolean | null; channel: string | null; events: { status: string; reason: string | null; createdAt: string | null }[] };
type ClientOutput = { client: string; endpoint?: string; send: Answer; resend: Answer; invalid: Answer; status: StatusAnswer; statusUnknown: StatusAnswer; error?: unknown };

type ClientSpec = {
  name: string;
  /** Fails (never skips) with what to install when the client's runtime is missing. */
  requireRuntime(): Promise<void>;
  command: string;
  script: string;
};

async function probe(cmd: string, args: string[], missing: string) {
  try {
    await run(cmd, args, { timeout: 20000 });
  } catch (e) {
    const err = e as { code?: unknown; stderr?: string };
    throw new Error(`${missing} (CI installs it; this test never skips). Probe \`${cmd} ${args.join(' ')}\` failed: ${err.code ?? ''} ${err.stderr?.trim() ?? ''}`);
  }
}

const clients: ClientSpec[] = [
  {
    name: 'Python zeep',
    command: PYTHON,
    script: path.join(CLIENTS, 'zeep_client.py'),
    requireRuntime: () => probe(PYTHON, ['-c', 'import zeep, lxml'], 'python3-zeep is not installed: apt-get install python3-zeep (used through /usr/bin/python3)'),
  },
  {
    name: 'PHP SoapClient',
    command: 'php',
    script: path.join(CLIENTS, 'php_client.php'),
    requireRuntime: () => probe('php', ['-r', 'exit(class_exists("SoapClient") ? 0 : 3);'], 'php-cli with php-soap is not installed: apt-get install php-cli php-soap'),
  },
];

async function runClient(c: ClientSpec, baseUrl: string, requestFile: string): Promise<ClientOutput> {
  await c.requireRuntime();
  let stdout: string;
  let stderr: string;
  try {
    ({ stdout, stderr } = await run(c.command, [c.script, baseUrl, requestFile], { timeout: 60000 }));
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    assert.fail(`${c.name} client exited with ${err.code}\nstdout: ${err.stdout}\nstderr: ${err.stderr}`);
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ClientOutput;
  } catch {
    assert.fail(`${c.name} client printed no JSON line\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
}

function getWsdl(gw: TestGateway, host?: string): Promise<string> {
  const u = new URL(`${gw.url}/hammy/soap/send/v2?wsdl`);
  return new Promise((resolve, reject) => {
    const req = http.get(u, { headers: host ? { host } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`WSDL answered ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

const soapAddresses = (wsdl: string) => [...wsdl.matchAll(/<soap:address\s+location="([^"]*)"/g)].map((m) => m[1]);

const mailOf = (mails: Received[], messageId: number) => mails.find((m) => m.mail.headers.get('x-hammy-message-id') === String(messageId));
const addresses = (a: unknown) => ((a as { value: { name: string; address: string }[] } | undefined)?.value ?? []).map((v) => ({ name: v.name, address: v.address }));

describe('WSDL-driven clients of other ecosystems (SPEC §2)', function () {
  this.timeout(90000);
  let gw: TestGateway;
  let dir: string;
  before(async () => {
    gw = await startTestGateway();
    dir = tempDir('hammy-wsdl-clients-');
  });
  after(async () => {
    await gw?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the served WSDL's soap:address is the gateway's actual host:port", async () => {
    const port = new URL(gw.url).port;
    assert.ok(Number(port) > 0);
    assert.deepEqual(soapAddresses(await getWsdl(gw)), [`http://127.0.0.1:${port}/hammy/soap/send/v2`]);
    // the host the caller used, e.g. a name in front of the gateway
    assert.deepEqual(soapAddresses(await getWsdl(gw, `gateway.example:${port}`)), [`http://gateway.example:${port}/hammy/soap/send/v2`]);
  });

  for (const c of clients) {
    const tag = c.name.split(' ')[0]!.toLowerCase();
    it(`${c.name}: sendMail (TEST.MAIL v1, xmlData, PDF, CC, property), resendMail to a corrected address, a business error, and getMessageStatus until final`, async () => {
      gw.smtp.received = [];
      const to = `${tag}-wrong@example.com`;
      const corrected = `${tag}-corrected@example.com`;
      const cc = `${tag}-cc@example.com`;
      const request = {
        send: {
          clientHashKey: DEMO_KEY,
          requestId: `${tag}-send-1`,
          partnerRef: `${tag}-partner`,
          messageType: 'TEST.MAIL',
          messageTypeVersion: 1,
          recipientEmailAddress: to,
          recipientName: 'Árvíztűrő Tükörfúrógép',
          recipientEmailAddressCC: cc,
          recipientNameCC: 'CC NAME',
          xmlData: '<DATA><contractNumber>10000001</contractNumber><clientID>9000001</clientID></DATA>',
          attachments: [
            {
              fileName: 'minta.pdf',
              path: path.join(FIXTURES, 'files', 'minta.pdf'),
              documentType: 'SAMPLE1',
              archivingExpected: false,
              properties: [{ key: 'SZERZODO_NEVE', value: 'Béla', isMetaData: true }],
            },
          ],
          properties: [{ key: 'AKARMI_PROPERTY', value: 'egy valami', isMetaData: false }],
        },
        resendTo: corrected,
        resendRequestId: `${tag}-resend-1`,
        invalid: { without: 'recipientName', requestId: `${tag}-invalid-1` },
      };
      const requestFile = path.join(dir, `${tag}-request.json`);
      fs.writeFileSync(requestFile, JSON.stringify(request));

      const out = await runClient(c, gw.url, requestFile);
      const dump = JSON.stringify(out);
      assert.equal(out.error, undefined, dump);
      // the client posted where the served WSDL told it to
      assert.equal(out.endpoint, `${gw.url}/hammy/soap/send/v2`, dump);

      // sendMail: accepted
      assert.equal(out.send.code, 0, dump);
      assert.deepEqual(out.send.messages, [], dump);
      assert.ok(Number.isInteger(out.send.messageId) && out.send.messageId! > 0, dump);
      // resendMail: accepted as a new message
      assert.equal(out.resend.code, 0, dump);
      assert.deepEqual(out.resend.messages, [], dump);
      assert.ok(Number.isInteger(out.resend.messageId) && out.resend.messageId! > 0, dump);
      assert.notEqual(out.resend.messageId, out.send.messageId);
      // the business error: a normal answer with code 1 naming the field, read through the generated objects
      assert.equal(out.invalid.code, 1, dump);
      assert.equal(out.invalid.messageId, null, dump);
      const issue = out.invalid.messages.find((m) => m.field === 'recipientName');
      assert.ok(issue, `a message names recipientName: ${dump}`);
      assert.equal(issue.code, 1);
      assert.match(issue.text ?? '', /recipientName/);
      // getMessageStatus, polled until final: the sent message's status and timeline, typed by the WSDL
      assert.equal(out.status.code, 0, dump);
      assert.equal(out.status.messageId, out.send.messageId, dump);
      assert.equal(out.status.messageStatus, 'SENT', dump);
      assert.equal(out.status.final, true, dump);
      assert.equal(out.status.channel, 'EMAIL', dump);
      const timeline = await gw.db.knex('message_events').where({ message_id: out.send.messageId }).orderBy('id');
      assert.deepEqual(out.status.events.map((e) => e.status), timeline.map((e) => e.status), dump);
      for (const [i, e] of out.status.events.entries()) assert.equal(new Date(e.createdAt!).getTime(), new Date(timeline[i]!.created_at).getTime(), dump);
      // an unknown message: code 6 on messageId, a normal answer
      assert.equal(out.statusUnknown.code, 6, dump);
      assert.deepEqual(out.statusUnknown.messages.map((m) => [m.code, m.field]), [[6, 'messageId']], dump);
      assert.equal(out.statusUnknown.messageStatus, null, dump);

      // what the SMTP server received
      const pdf = fixtureBytes('files', 'minta.pdf');
      const mails = await gw.smtp.waitFor(2);
      const first = mailOf(mails, out.send.messageId!);
      const resent = mailOf(mails, out.resend.messageId!);
      assert.ok(first, `the mail of message ${out.send.messageId} arrives`);
      assert.ok(resent, `the mail of message ${out.resend.messageId} arrives`);

      assert.equal(first.mail.subject, SUBJECT);
      assert.match(first.mail.text ?? '', /Kedves Árvíztűrő Tükörfúrógép!/);
      assert.match(first.mail.text ?? '', /Ügyfélazonosító: 9000001/);
      assert.deepEqual(addresses(first.mail.to), [{ name: 'Árvíztűrő Tükörfúrógép', address: to }]);
      assert.deepEqual(addresses(first.mail.cc), [{ name: 'CC NAME', address: cc }]);
      assert.deepEqual([...first.envelopeTo].sort(), [cc, to].sort());
      assert.equal(first.mail.attachments.length, 1);
      assert.equal(first.mail.attachments[0]!.filename, 'minta.pdf');
      assert.ok(first.mail.attachments[0]!.content.equals(pdf), 'the attachment arrives byte-identical to fixtures/files/minta.pdf');

      assert.equal(resent.mail.subject, SUBJECT);
      assert.deepEqual(addresses(resent.mail.to), [{ name: 'Árvíztűrő Tükörfúrógép', address: corrected }]);
      assert.ok(resent.envelopeTo.includes(corrected), `resent mail goes to ${corrected}: ${resent.envelopeTo}`);
      assert.ok(!resent.envelopeTo.includes(to), `resent mail does not go to the old address: ${resent.envelopeTo}`);
      assert.equal(resent.mail.attachments.length, 1);
      assert.ok(resent.mail.attachments[0]!.content.equals(pdf), 'the resent attachment is byte-identical too');

      // what was stored
      const k = gw.db.knex;
      const orig = await k('messages').where({ id: out.send.messageId }).first();
      assert.equal(orig.intake, 'soap');
      assert.equal(orig.request_id, `${tag}-send-1`);
      assert.equal(orig.partner_ref, `${tag}-partner`);
      assert.equal(orig.message_type_version, 1);
      assert.equal(orig.recipient_email_address, to, 'the original message keeps its address');
      assert.equal(orig.recipient_name, 'Árvíztűrő Tükörfúrógép');
      assert.deepEqual(orig.properties, [{ key: 'AKARMI_PROPERTY', value: 'egy valami', isMetaData: false }]);
      const att = await k('attachments').where({ message_id: out.send.messageId }).first();
      assert.equal(att.document_type, 'SAMPLE1');
      assert.ok(Buffer.from(att.content).equals(pdf));
      assert.deepEqual(att.properties, [{ key: 'SZERZODO_NEVE', value: 'Béla', isMetaData: true }]);

      const again = await k('messages').where({ id: out.resend.messageId }).first();
      assert.equal(String(again.related_message_id), String(out.send.messageId), 'the resent message points back to the original');
      assert.equal(again.recipient_email_address, corrected);
      assert.equal(again.request_id, `${tag}-resend-1`);

      const invalidRows = await k('messages').where({ request_id: `${tag}-invalid-1` }).count({ n: '*' });
      assert.equal(Number(invalidRows[0]!.n), 0, 'the invalid request stored nothing');
    });
  }
});
