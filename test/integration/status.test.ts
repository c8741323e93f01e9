// Status, batch and history APIs (SPEC §5): timelines, counts, cursor paging, parameter errors, and one client never seeing another's.
import { keyHash } from '../../src/core/secrets.js';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { api, problemMessages } from '../helpers/api.js';
import { DEMO_KEY, sealedSecret, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

const V2 = '/hammy/json/send/v2';
const OTHER = 'other-client-key-0001';
const mail = (o: Record<string, string | undefined> = {}) =>
  envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: 'Teszt Elek', recipientEmailAddress: 'elek@example.com', mailSubject: 'Állapot', mailBody: 'szöveg', ...o });

describe('status, batch and history APIs', function () {
  this.timeout(60000);
  let gw: TestGateway;
  const send = async (o: Record<string, string | undefined> = {}, headers: Record<string, string> = {}) => {
    const r = await postSoap(gw.url, mail(o), headers);
    assert.equal(r.code, 0, r.raw);
    return r.messageId!;
  };

  before(async () => {
    gw = await startTestGateway();
    await gw.db.knex('clients').insert({ key_hash: keyHash(OTHER), name: 'Other', default_from_address: 'other@example.com' });
    gw.smtp.script.onRcpt = (a) => (a.startsWith('bounce') ? { code: 550, text: 'no such user here' } : undefined);
  });
  after(async () => gw?.stop());

  describe('GET messages/{messageId}', () => {
    it('status, channel, recipient, X-Origin/X-Issuer, timestamps and the whole timeline', async () => {
      const id = await send({ requestId: 'REQ-1', partnerRef: 'P-1', userName: 'ugyintezo' }, { 'X-Origin': 'crm-system', 'X-Issuer': 'kovacs.bela' });
      await waitForStatus(gw, id, 'SENT');
      const r = await api(gw.url, `${V2}/messages/${id}`, { key: DEMO_KEY });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type')!, /application\/vnd\.api\+json/);
      const { type, id: rid, attributes: a, links } = r.body.data;
      assert.deepEqual([type, rid], ['messages', String(id)]);
      assert.equal(a.status, 'SENT');
      assert.equal(a.final, true);
      assert.equal(a.channel, 'EMAIL');
      assert.equal(a.recipientEmailAddress, 'elek@example.com');
      assert.equal(a.recipientName, 'Teszt Elek');
      assert.deepEqual([a.requestId, a.partnerRef, a.userName, a.origin, a.issuer, a.intake], ['REQ-1', 'P-1', 'ugyintezo', 'crm-system', 'kovacs.bela', 'soap']);
      assert.ok(Date.parse(a.createdAt) <= Date.parse(a.updatedAt));
      assert.deepEqual(a.events.map((e: any) => e.status), ['RECEIVED', 'QUEUED', 'SENT']);
      assert.equal(a.events[0].reason, 'via soap');
      assert.ok(a.events.every((e: any) => !Number.isNaN(Date.parse(e.createdAt))));
      assert.equal(links.self, `${V2}/messages/${id}`);
    });

    it('a failed delivery shows FAILED with the SMTP reason in the timeline', async () => {
      const id = await send({ recipientEmailAddress: 'bounce@example.com' });
      await waitForStatus(gw, id, 'FAILED');
      const a = (await api(gw.url, `${V2}/messages/${id}`, { key: DEMO_KEY })).body.data.attributes;
      assert.equal(a.status, 'FAILED');
      assert.equal(a.final, true);
      assert.match(a.events.at(-1).reason, /550.*no such user/);
    });

    it('a message still queued is not final', async () => {
      await gw.worker!.stop();
      try {
        const id = await send();
        const a = (await api(gw.url, `${V2}/messages/${id}`, { key: DEMO_KEY })).body.data.attributes;
        assert.deepEqual([a.status, a.final], ['QUEUED', false]);
      } finally {
        gw.worker!.start();
      }
    });

    it("another client's message is a 404 exactly like a missing one", async () => {
      const id = await send();
      const other = await api(gw.url, `${V2}/messages/${id}`, { key: OTHER });
      const missing = await api(gw.url, `${V2}/messages/987654321`, { key: OTHER });
      assert.equal(other.status, 404);
      assert.equal(missing.status, 404);
      assert.equal(other.body.code, 6);
      assert.equal(JSON.stringify(other.body).replaceAll(`message ${id} `, 'message N '), JSON.stringify(missing.body).replaceAll('message 987654321 ', 'message N '));
      assert.equal((await api(gw.url, `${V2}/messages/abc`, { key: DEMO_KEY })).status, 404);
    });

    it('the key in the query is refused (400 naming clientHashKey); none is 400, an unknown or disabled client 401 (code 2)', async () => {
      const id = await send();
      const inQuery = await api(gw.url, `${V2}/messages/${id}?clientHashKey=${DEMO_KEY}`);
      assert.deepEqual([inQuery.status, inQuery.body.issues[0].source], [400, { parameter: 'clientHashKey' }]);
      const none = await api(gw.url, `${V2}/messages/${id}`);
      assert.equal(none.status, 400);
      assert.equal(problemMessages(none.body)[0].field, 'clientHashKey');
      const unknown = await api(gw.url, `${V2}/messages/${id}`, { key: 'nobody-at-all' });
      assert.deepEqual([unknown.status, unknown.body.code], [401, 2]);
      await gw.db.knex('clients').insert({ key_hash: keyHash('disabled-key-0001'), name: 'Off', default_from_address: 'off@example.com', enabled: false });
      const off = await api(gw.url, `${V2}/messages/${id}`, { key: 'disabled-key-0001' });
      assert.deepEqual([off.status, off.body.code], [401, 2]);
    });

    it('a client that requires a JWT needs a valid one here too, as on the send API', async () => {
      const secret = 'a-jwt-secret-of-at-least-32-characters!';
      await gw.db.knex('clients').insert({ key_hash: keyHash('jwt-key-0001'), name: 'JWT', default_from_address: 'jwt@example.com', jwt_required: true, jwt_algorithms: 'HS256', jwt_secret: sealedSecret(secret) });
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(secret));
      const without = await api(gw.url, `${V2}/messages`, { key: 'jwt-key-0001' });
      assert.deepEqual([without.status, without.body.code], [401, 2]);
      const forged = await api(gw.url, `${V2}/messages`, { key: 'jwt-key-0001', headers: { authorization: `JWT ${token.slice(0, -2)}xx` } });
      assert.equal(forged.status, 401);
      const ok = await api(gw.url, `${V2}/messages`, { key: 'jwt-key-0001', headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
    });
  });

  describe('GET batches/{batchId}', () => {
    it('counts per status, pending and final, and each message with its status', async () => {
      const ids = [await send({ batchId: 'B-2026/11' }), await send({ batchId: 'B-2026/11' }), await send({ batchId: 'B-2026/11', recipientEmailAddress: 'bounce2@example.com' })];
      await waitForStatus(gw, ids[0]!, 'SENT');
      await waitForStatus(gw, ids[1]!, 'SENT');
      await waitForStatus(gw, ids[2]!, 'FAILED');
      const r = await api(gw.url, `${V2}/batches/${encodeURIComponent('B-2026/11')}`, { key: DEMO_KEY });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const d = r.body.data;
      assert.deepEqual([d.type, d.id], ['batches', 'B-2026/11']);
      assert.deepEqual(d.attributes, { total: 3, pending: 0, final: true, counts: { SENT: 2, FAILED: 1 } });
      assert.deepEqual(d.relationships.messages.data.map((m: any) => Number(m.id)), [...ids].reverse());
      const statuses = Object.fromEntries(r.body.included.map((m: any) => [Number(m.id), m.attributes.status]));
      assert.deepEqual(statuses, { [ids[0]!]: 'SENT', [ids[1]!]: 'SENT', [ids[2]!]: 'FAILED' });
      assert.equal(d.relationships.messages.links.next, null);
    });

    it('a batch still in delivery is not final; its messages page with a cursor', async () => {
      await gw.worker!.stop();
      try {
        for (let i = 0; i < 3; i++) await send({ batchId: 'B-open' });
        const r = await api(gw.url, `${V2}/batches/B-open?page[size]=2`, { key: DEMO_KEY });
        assert.deepEqual(r.body.data.attributes, { total: 3, pending: 3, final: false, counts: { QUEUED: 3 } });
        assert.equal(r.body.included.length, 2);
        const next = await api(gw.url, r.body.data.relationships.messages.links.next, { key: DEMO_KEY });
        assert.equal(next.body.included.length, 1);
        assert.equal(next.body.data.relationships.messages.links.next, null);
      } finally {
        gw.worker!.start();
      }
    });

    it("another client's batch and an unknown batch are both 404", async () => {
      await send({ batchId: 'B-private' });
      const other = await api(gw.url, `${V2}/batches/B-private`, { key: OTHER });
      const none = await api(gw.url, `${V2}/batches/B-none`, { key: DEMO_KEY });
      assert.deepEqual([other.status, none.status], [404, 404]);
      assert.equal(other.body.code, 6);
    });
  });

  describe('GET messages (history)', () => {
    it('pages newest first over more than one page with an opaque cursor, none lost or repeated', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 7; i++) ids.push(await send({ partnerRef: 'HIST-1' }));
      const seen: number[] = [];
      let path: string | null = `${V2}/messages?partnerRef=HIST-1&page[size]=3`;
      const sizes: number[] = [];
      while (path) {
        const r = await api(gw.url, path, { key: DEMO_KEY });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        sizes.push(r.body.data.length);
        seen.push(...r.body.data.map((m: any) => Number(m.id)));
        path = r.body.links.next;
        if (path) assert.doesNotMatch(path, new RegExp(`after=${ids[0]}\\b`), 'the cursor is opaque');
      }
      assert.deepEqual(sizes, [3, 3, 1]);
      assert.deepEqual(seen, [...ids].reverse());
    });

    it('filters by recipientEmailAddress, batchId, requestId, status and from/to', async () => {
      const a = await send({ recipientEmailAddress: 'filter-a@example.com', batchId: 'F-1', requestId: 'RQ-F' });
      const b = await send({ recipientEmailAddress: 'bounce-filter@example.com', batchId: 'F-1' });
      await waitForStatus(gw, a, 'SENT');
      await waitForStatus(gw, b, 'FAILED');
      const ids = async (q: string) => (await api(gw.url, `${V2}/messages?${q}`, { key: DEMO_KEY })).body.data.map((m: any) => Number(m.id));
      assert.deepEqual(await ids('recipientEmailAddress=filter-a@example.com'), [a]);
      assert.deepEqual(await ids('batchId=F-1'), [b, a]);
      assert.deepEqual(await ids('batchId=F-1&status=FAILED'), [b]);
      assert.deepEqual(await ids('requestId=RQ-F'), [a]);
      const created = new Date((await gw.db.knex('messages').where({ id: a }).first('created_at')).created_at);
      assert.deepEqual(await ids(`batchId=F-1&from=${encodeURIComponent(created.toISOString())}`), [b, a]);
      assert.deepEqual(await ids(`batchId=F-1&to=${encodeURIComponent(created.toISOString())}`), []);
      assert.deepEqual(await ids(`batchId=F-1&from=2000-01-01&to=2999-12-31`), [b, a]);
    });

    it('every bad parameter is named at once, with source.parameter', async () => {
      const r = await api(gw.url, `${V2}/messages?page[size]=0&page[after]=bm9wZQ&status=LOST&from=yesterday&to=2026-13-45`, { key: DEMO_KEY });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 1);
      assert.deepEqual(r.body.issues.map((e: any) => e.source.parameter).sort(), ['from', 'page[after]', 'page[size]', 'status', 'to']);
      const twice = await api(gw.url, `${V2}/messages?partnerRef=a&partnerRef=b`, { key: DEMO_KEY });
      assert.equal(twice.body.issues[0].source.parameter, 'partnerRef');
      const big = await api(gw.url, `${V2}/messages?page[size]=501`, { key: DEMO_KEY });
      assert.match(big.body.issues[0].text, /1 to 500/);
    });

    it("a client's history holds only its own messages", async () => {
      await send({ partnerRef: 'SHARED-REF' });
      const mine = await api(gw.url, `${V2}/messages?partnerRef=SHARED-REF`, { key: DEMO_KEY });
      const theirs = await api(gw.url, `${V2}/messages?partnerRef=SHARED-REF`, { key: OTHER });
      const all = await api(gw.url, `${V2}/messages?page[size]=500`, { key: OTHER });
      assert.equal(mine.body.data.length, 1);
      assert.deepEqual(theirs.body.data, []);
      assert.deepEqual(all.body.data, []);
    });
  });
});
