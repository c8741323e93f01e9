// The AMQP intake (SPEC §8) on the real RabbitMQ: samples, methods, reply routing, errors, dead letters, recovery.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { FIXTURES, PG_URL, eventually, fixture, fixtureBytes, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { AMQP_URL, Producer } from '../helpers/amqp.js';
import { postSoap } from '../helpers/soap.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const xml = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'message' });
const run = promisify(execFile);

describe('AMQP intake', function () {
  this.timeout(60000);
  let gw: TestGateway;
  let producer: Producer;
  let queue: string;
  // The gateway reaches the broker through a proxy, so a test can cut its connection without touching RabbitMQ.
  let broker: TcpProxy;
  before(async () => {
    queue = `test.send.${randomBytes(4).toString('hex')}`;
    broker = await TcpProxy.start(AMQP_URL);
    gw = await startTestGateway({ AMQP_URL: broker.url(AMQP_URL), AMQP_QUEUE: queue, AMQP_MAX_ATTEMPTS: '2', AMQP_RETRY_DELAY_MS: '50', AMQP_REPLY_EXCHANGE: `${queue}.reply` });
    producer = await Producer.open();
    // Readiness is the check a producer makes before it publishes: once 200, the queue is consumed.
    await eventually(async () => (await fetch(`${gw.url}/health/ready`)).status === 200, 15000, 'ready');
    assert.equal((await (await fetch(`${gw.url}/health`)).json()).parts.amqp.state, 'consuming');
  });
  after(async () => {
    await producer?.ch.deleteQueue(queue).catch(() => undefined);
    await producer?.ch.deleteQueue(`${queue}.dead`).catch(() => undefined);
    await producer?.ch.deleteQueue(`${queue}.retry.50ms`).catch(() => undefined);
    await producer?.ch.deleteExchange(`${queue}.reply`).catch(() => undefined);
    await producer?.close();
    await gw?.stop();
    await broker?.close();
  });

  describe('the three queue samples of the Hammy page (351.DI, test.pdf from SOURCE_DIR, DMS archive)', () => {
    const checkDelivered = async (messageId: number) => {
      const events = await waitForStatus(gw, messageId, 'SENT');
      assert.deepEqual(events.map((e) => e.status), ['RECEIVED', 'QUEUED', 'ARCHIVED', 'SENT']);
      const mail = gw.smtp.received.find((m) => m.mail.headers.get('x-hammy-message-id') === String(messageId))!;
      assert.equal(mail.mail.subject, '351 díjértesítő – 123456789 számú szerződés');
      assert.match(mail.mail.text!, /Tisztelt Teszt Elek!/);
      assert.equal(mail.mail.attachments[0]!.filename, 'minta.pdf');
      assert.ok(mail.mail.attachments[0]!.content.equals(fixtureBytes('files', 'test.pdf')), 'the FS source test.pdf is attached');
      const doc = await gw.db.knex('dms_documents').where({ message_id: messageId }).first();
      assert.equal(doc.document_type, '351.DI');
      assert.equal(doc.metadata.SZERZODO_NEVE, 'Cserepes Virág');
      const msg = await gw.db.knex('messages').where({ id: messageId }).first();
      assert.equal(msg.intake, 'amqp');
    };

    it('application/json answers in the plain JSON shape', async () => {
      const r = await producer.request(queue, fixture('amqp', 'sample-json.json'), { contentType: 'application/json', messageId: 'json-1' });
      assert.equal(r.contentType, 'application/json');
      assert.deepEqual(r.json.meta, { responseStatus: { code: 0, messages: [] }, params: [] });
      assert.ok(Number.isInteger(r.json.messageId));
      await checkDelivered(r.json.messageId);
    });

    it('application/vnd.api+json answers in the JSON:API shape', async () => {
      const r = await producer.request(queue, fixture('amqp', 'sample-jsonapi.json'), { contentType: 'application/vnd.api+json', messageId: 'jsonapi-1' });
      assert.equal(r.contentType, 'application/vnd.api+json');
      assert.equal(r.json.data.type, 'sendResponse');
      assert.deepEqual(r.json.meta.responseStatus, { code: 0, messages: [] });
      await checkDelivered(Number(r.json.data.id));
    });

    it('application/xml answers with sendMailResponse, keeping correlation_id', async () => {
      const r = await producer.request(queue, fixture('amqp', 'sample-xml.xml'), { contentType: 'application/xml', messageId: 'xml-1', correlationId: 'corr-xml-1' });
      assert.equal(r.correlationId, 'corr-xml-1');
      const doc = xml.parse(r.body);
      assert.equal(doc.sendMailResponse.status.code, '0');
      await checkDelivered(Number(doc.sendMailResponse.messageId));
    });
  });

  it('Send_V2_Resend (XML) answers resendMailResponse with the new messageId', async () => {
    const first = await producer.request(queue, JSON.stringify({ recipientEmailAddress: 'a@example.com', recipientName: 'A', mailSubject: 's', mailBody: 'b' }));
    const r = await producer.request(queue, `<resendMailRequest><messageId>${first.json.messageId}</messageId><recipientEmailAddress>fixed@example.com</recipientEmailAddress></resendMailRequest>`, { method: 'Send_V2_Resend', contentType: 'application/xml' });
    const doc = xml.parse(r.body);
    assert.equal(doc.resendMailResponse.status.code, '0', r.body);
    const id = Number(doc.resendMailResponse.messageId);
    assert.notEqual(id, first.json.messageId);
    const row = await gw.db.knex('messages').where({ id }).first();
    assert.equal(row.related_message_id, first.json.messageId);
    assert.equal(row.recipient_email_address, 'fixed@example.com');
  });

  it('replyToApp routes the answer through the reply exchange with that routing key', async () => {
    const { queue: appQueue } = await producer.ch.assertQueue('', { exclusive: true });
    await producer.ch.bindQueue(appQueue, `${queue}.reply`, 'billing-app');
    const got = new Promise<string>((resolve) => producer.ch.consume(appQueue, (m) => m && resolve(m.content.toString()), { noAck: true }));
    producer.publish(queue, JSON.stringify({ recipientEmailAddress: 'app@example.com', recipientName: 'A', mailSubject: 's', mailBody: 'b' }), { replyTo: null, headers: { replyToApp: 'billing-app' } });
    const body = JSON.parse(await got);
    assert.equal(body.meta.responseStatus.code, 0);
    assert.ok(body.messageId > 0);
  });

  it('content_encoding gzip is honoured', async () => {
    const r = await producer.request(queue, gzipSync(Buffer.from(JSON.stringify({ recipientEmailAddress: 'gz@example.com', recipientName: 'G', mailSubject: 'gzip', mailBody: 'b' }))), { contentEncoding: 'gzip' });
    assert.equal(r.json.meta.responseStatus.code, 0, r.body);
  });

  describe('error answers', () => {
    const expectError = async (body: string, o: Parameters<Producer['publish']>[2], code: number, field: string) => {
      const r = await producer.request(queue, body, o);
      const status = r.json ? (r.json.meta.responseStatus) : xml.parse(r.body).sendMailResponse.status;
      assert.equal(Number(status.code), code, r.body);
      const messages = r.json ? status.messages : status.messages.message;
      assert.equal(messages[0].field, field, r.body);
      return r;
    };
    it('unknown X-Method-Name', () => expectError('{}', { method: 'Send_V2_Delete' }, 1, 'X-Method-Name'));
    it('unreadable JSON', () => expectError('{"recipientName": ', {}, 1, 'body'));
    it('not well-formed XML', () => expectError('<sendMailRequest><oops>', { contentType: 'application/xml' }, 1, 'body'));
    it('a DOCTYPE in XML', () => expectError('<!DOCTYPE x [<!ENTITY a "b">]><sendMailRequest/>', { contentType: 'application/xml' }, 1, 'body'));
    it('an unsupported content_type', () => expectError('hello', { contentType: 'text/plain' }, 1, 'content_type'));
    it('a body not in its content_encoding', () => expectError('not gzip', { contentEncoding: 'gzip' }, 1, 'content_encoding'));
    it('unknown client', () => expectError(JSON.stringify({ recipientName: 'x' }), { headers: { 'X-Client-Hash-Key': 'nope' } }, 2, 'X-Client-Hash-Key')); // refused from the header, before the body is read
    it('validation: every violation', async () => {
      const r = await expectError(JSON.stringify({ recipientEmailAddress: 'bad' }), {}, 1, 'recipientEmailAddress');
      assert.deepEqual(r.json.meta.responseStatus.messages.map((m: any) => m.field).sort(), ['mailBody', 'mailSubject', 'recipientEmailAddress', 'recipientName']);
    });
    it('JSON:API errors carry pointers', async () => {
      const r = await producer.request(queue, JSON.stringify({ data: { type: 'sendRequest', attributes: { recipientEmailAddress: 'x@example.com', mailSubject: 's', mailBody: 'b' } } }), { contentType: 'application/vnd.api+json' });
      assert.equal(r.json.errors[0].source.pointer, '/data/attributes/recipientName');
      assert.equal(r.json.meta.responseStatus.code, 1);
    });
  });

  describe('dead letters and bounded retries', () => {
    const dead = async (match: (reason: string) => boolean) =>
      eventually(async () => {
        const m = await producer.ch.get(`${queue}.dead`, { noAck: true });
        return m && match(String(m.properties.headers?.['x-hammy-dead-reason'])) ? m : undefined;
      }, 15000, 'a dead letter');

    it('a refused message without reply_to is dead-lettered with its reason, not dropped', async () => {
      producer.publish(queue, JSON.stringify({ recipientName: 'no reply' }), { replyTo: null, messageId: 'dead-1' });
      const m = await dead((r) => /refused \(code 1\)/.test(r));
      assert.equal(m.properties.messageId, 'dead-1');
      assert.equal(JSON.parse(m.content.toString()).recipientName, 'no reply');
    });

    it('a message that keeps failing (database trouble) answers code 9 and goes to the dead-letter queue after AMQP_MAX_ATTEMPTS', async () => {
      await gw.db.knex.schema.renameTable('jobs', 'jobs_gone');
      try {
        const r = await producer.request(queue, JSON.stringify({ recipientEmailAddress: 'k@example.com', recipientName: 'K', mailSubject: 'keeps failing', mailBody: 'b' }), { messageId: 'failing-1' });
        assert.equal(r.json.meta.responseStatus.code, 9);
        const m = await dead((reason) => /gave up after 2 attempts/.test(reason));
        assert.equal(m.properties.messageId, 'failing-1');
      } finally {
        await gw.db.knex.schema.renameTable('jobs_gone', 'jobs');
      }
      assert.equal(await gw.db.knex('messages').where({ subject: 'keeps failing' }).first(), undefined);
    });
  });

  describe('exactly once out', () => {
    it('a redelivered message (same message_id) answers the same messageId and sends one mail', async () => {
      const body = JSON.stringify({ recipientEmailAddress: 'once@example.com', recipientName: 'O', mailSubject: 'only once', mailBody: 'b' });
      const a = await producer.request(queue, body, { messageId: 'redeliver-1' });
      const b = await producer.request(queue, body, { messageId: 'redeliver-1' });
      assert.equal(b.json.messageId, a.json.messageId);
      await waitForStatus(gw, a.json.messageId, 'SENT');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(gw.smtp.received.filter((m) => m.mail.subject === 'only once').length, 1);
    });

    it('a batch without message_id that fails after item 3 is retried through the delay queue: 5 messages, 5 mails', async () => {
      // A fault the test owns, in its own schema: the 4th message insert of this batch fails once (a sequence is not
      // rolled back with the failing statement, so the retry passes).
      const s = gw.schema;
      await gw.db.knex.raw(`create sequence ${s}.fault_once`);
      await gw.db.knex.raw(`create function ${s}.fail_fourth() returns trigger language plpgsql as $$
        begin
          if new.subject like 'fail-after-3 %' and (select count(*) from ${s}.messages where subject like 'fail-after-3 %') = 3
             and nextval('${s}.fault_once') = 1 then raise exception 'injected fault'; end if;
          return new;
        end $$`);
      await gw.db.knex.raw(`create trigger fail_fourth before insert on ${s}.messages for each row execute function ${s}.fail_fourth()`);
      try {
        const data = [1, 2, 3, 4, 5].map((i) => ({ type: 'sendRequest', id: `item-${i}`, attributes: { recipientEmailAddress: `b${i}@example.com`, recipientName: 'B', mailSubject: `fail-after-3 ${i}`, mailBody: 'b' } }));
        const r = await producer.request(queue, JSON.stringify({ data }), { contentType: 'application/vnd.api+json' }, 30000);
        const ids = r.json.data.map((d: { id: string; meta: { responseStatus: { code: number } } }) => {
          assert.equal(d.meta.responseStatus.code, 0, JSON.stringify(r.json));
          return Number(d.id);
        });
        assert.equal(new Set(ids).size, 5);
        const rows = await gw.db.knex('messages').where('subject', 'like', 'fail-after-3 %').orderBy('id').select('id');
        assert.deepEqual(rows.map((x) => Number(x.id)), [...ids].sort((a, b) => a - b), 'items 1-3 were found again, not stored twice');
        assert.equal(Number((await gw.db.knex.raw(`select last_value from ${s}.fault_once`)).rows[0].last_value) >= 1, true, 'the fault did fire');
        await eventually(async () => gw.smtp.received.filter((m) => m.mail.subject?.startsWith('fail-after-3 ')).length >= 5, 20000, 'five mails');
        await new Promise((res) => setTimeout(res, 300));
        assert.equal(gw.smtp.received.filter((m) => m.mail.subject?.startsWith('fail-after-3 ')).length, 5);
      } finally {
        await gw.db.knex.raw(`drop trigger fail_fourth on ${s}.messages`);
      }
    });

    it('a retried request waits in a delay queue (TTL, dead-lettered back), not in a prefetch slot', async () => {
      const args = await producer.ch.checkQueue(`${queue}.retry.50ms`);
      assert.equal(args.queue, `${queue}.retry.50ms`, 'the delay queue of the first back-off step exists');
    });

    it('without message_id: two identical messages are two requests, but a broker redelivery finds what it stored', async () => {
      const body = JSON.stringify({ recipientEmailAddress: 'redeliver@example.com', recipientName: 'R', mailSubject: 'redelivered without id', mailBody: 'b' });
      const a = await producer.request(queue, body, { correlationId: 'same-corr' });
      const b = await producer.request(queue, body, { correlationId: 'same-corr' });
      assert.notEqual(b.json.messageId, a.json.messageId, 'a second publication is a new request');

      // The store of this one commits after a pause; meanwhile the broker connection goes, so the ack is lost and the
      // broker redelivers (redelivered = true).
      const s = gw.schema;
      await gw.db.knex.raw(`create function ${s}.pause_once() returns trigger language plpgsql as $$
        begin if new.subject = 'redelivered by the broker' then perform pg_sleep(1.5); end if; return new; end $$`);
      await gw.db.knex.raw(`create trigger pause_once after insert on ${s}.messages for each row execute function ${s}.pause_once()`);
      try {
        const slow = JSON.stringify({ recipientEmailAddress: 'redeliver@example.com', recipientName: 'R', mailSubject: 'redelivered by the broker', mailBody: 'b' });
        const answered = producer.request(queue, slow, { correlationId: 'redelivered-corr' }, 30000);
        await new Promise((res) => setTimeout(res, 700));
        assert.ok(broker.cut() >= 1, 'the gateway connection was cut mid-store');
        const r = await answered;
        assert.equal(r.json.meta.responseStatus.code, 0);
        const rows = await gw.db.knex('messages').where({ subject: 'redelivered by the broker' }).select('id');
        assert.deepEqual(rows.map((x) => Number(x.id)), [r.json.messageId], 'stored once, answered with it');
      } finally {
        await gw.db.knex.raw(`drop trigger pause_once on ${s}.messages`);
      }
      await eventually(async () => (await (await fetch(`${gw.url}/health`)).json()).parts.amqp.state === 'consuming', 15000, 'consuming again');
    });

        it('the broker connection cut mid-load: every request answered, no duplicate message or mail', async () => {
      const n = 60;
      const answers = new Map<string, number[]>();
      const before = producer.replies.length;
      for (let i = 0; i < n; i++) {
        producer.publish(queue, JSON.stringify({ recipientEmailAddress: `load${i}@example.com`, recipientName: 'L', mailSubject: `load ${i}`, mailBody: 'b' }), { messageId: `load-${i}`, correlationId: `load-${i}` });
        if (i === 20) assert.ok(broker.cut() >= 1, 'the gateway connection was cut');
      }
      await eventually(async () => {
        for (const r of producer.replies.slice(before)) {
          if (!r.correlationId?.startsWith('load-')) continue;
          answers.set(r.correlationId, [...(answers.get(r.correlationId) ?? []), r.json.messageId]);
        }
        producer.replies.splice(before);
        return answers.size === n;
      }, 40000, `all ${n} answered`);
      for (const [k, ids] of answers) assert.equal(new Set(ids).size, 1, `${k} always got the same messageId`);
      const rows = await gw.db.knex('messages').where('subject', 'like', 'load %').select('subject');
      assert.equal(rows.length, n, 'one message per request');
      await eventually(async () => gw.smtp.received.filter((m) => m.mail.subject?.startsWith('load ')).length >= n, 30000, 'mails');
      await new Promise((r) => setTimeout(r, 500));
      const subjects = gw.smtp.received.filter((m) => m.mail.subject?.startsWith('load ')).map((m) => m.mail.subject);
      assert.equal(subjects.length, n);
      assert.equal(new Set(subjects).size, n);
      const h = await (await fetch(`${gw.url}/health`)).json();
      assert.equal(h.parts.amqp.state, 'consuming', 'reconnected by itself');
    });
  });

  it('a producer of another ecosystem (python3-pika) sends the XML sample and reads the answer', async () => {
    const { stdout } = await run('/usr/bin/python3', [path.join(FIXTURES, '../test/clients/pika_producer.py'), AMQP_URL, queue, path.join(FIXTURES, 'amqp', 'sample-xml.xml'), 'application/xml']).catch((e) => {
      throw new Error(`python3-pika producer failed (is python3-pika installed? .ci/run installs it): ${e.stderr ?? e.message}`);
    });
    const answer = JSON.parse(stdout);
    const doc = xml.parse(answer.body);
    assert.equal(doc.sendMailResponse.status.code, '0', answer.body);
    await waitForStatus(gw, Number(doc.sendMailResponse.messageId), 'SENT');
  });
});

describe('AMQP intake on SIGTERM', function () {
  this.timeout(60000);
  it('stops consuming, finishes what is in flight: every request is answered or still queued, none lost', async () => {
    const queue = `test.stop.${randomBytes(4).toString('hex')}`;
    const gw = await startTestGateway({ AMQP_URL, AMQP_QUEUE: queue, AMQP_PREFETCH: '8' });
    const producer = await Producer.open();
    try {
      await eventually(async () => (await (await fetch(`${gw.url}/health`)).json()).parts.amqp.state === 'consuming', 15000, 'consuming');
      const n = 40;
      for (let i = 0; i < n; i++) producer.publish(queue, JSON.stringify({ recipientEmailAddress: `s${i}@example.com`, recipientName: 'S', mailSubject: `stop ${i}`, mailBody: 'b' }), { messageId: `stop-${i}`, correlationId: `stop-${i}` });
      await eventually(async () => producer.replies.length > 0, 10000, 'first answers');
      await gw.halt();
      await new Promise((r) => setTimeout(r, 200));
      const answered = new Set(producer.replies.map((r) => r.correlationId));
      const stored = Number((await countMessages(gw.schema, 'stop %')));
      const { messageCount } = await producer.ch.checkQueue(queue);
      assert.equal(answered.size, stored, 'every stored request was answered before the stop finished');
      assert.equal(answered.size + messageCount, n, 'the rest is still in the queue, nothing lost');
    } finally {
      await producer.ch.deleteQueue(queue).catch(() => undefined);
      await producer.ch.deleteQueue(`${queue}.dead`).catch(() => undefined);
      await producer.close();
      await gw.stop();
    }
  });
});

async function countMessages(schema: string, like: string): Promise<number> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const r = await c.query(`select count(*)::int as n from ${schema}.messages where subject like $1`, [like]);
    return r.rows[0].n;
  } finally {
    await c.end();
  }
}

describe('AMQP intake with the broker away', function () {
  this.timeout(30000);
  it('SOAP keeps working and /health shows the queue intake reconnecting', async () => {
    const gw = await startTestGateway({ AMQP_URL: 'amqp://guest:guest@127.0.0.1:1', AMQP_QUEUE: 'never' });
    try {
      const health = await fetch(`${gw.url}/health`);
      assert.equal(health.status, 200, 'the database answers: /health stays 200 as before');
      assert.notEqual((await health.json()).parts.amqp.state, 'consuming');
      // Readiness means every configured intake takes requests: the queue intake does not, so not ready.
      const ready = await fetch(`${gw.url}/health/ready`);
      assert.equal(ready.status, 503);
      assert.equal((await ready.json()).status, 'not ready');
      const live = await fetch(`${gw.url}/health/live`);
      assert.equal(live.status, 200);
      const r = await postSoap(gw.url, fixture('soap', 'sample1.xml'));
      assert.equal(r.code, 0);
    } finally {
      await gw.stop();
    }
  });
});
