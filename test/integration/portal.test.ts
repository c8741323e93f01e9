// The portal remote-content API as an attacker and as the platform meet it (SPEC §5, issue 15 point 1): portal keys
// per client, scoping by client then recipient, random remote-content ids, GET-only reads, seed 004's extra headers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { fixtureBytes, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { api } from '../helpers/api.js';
import { postJson } from '../helpers/rest.js';

const TOKEN = 'portal-admin-token-5a1c';
const CLIENTS = '/hammy/admin/v1/clients';
const pdf = fixtureBytes('files', 'minta.pdf');

/** Every miss of the portal API is this one problem (RFC 9457): nothing tells which part was wrong. */
const PORTAL_MISS = {
  type: 'about:blank',
  title: 'Not Found',
  status: 404,
  detail: 'no such message for this recipient',
  code: 6,
  issues: [{ code: 6, text: 'no such message for this recipient', source: { field: 'id' } }],
};

describe('portal remote-content API: keys, scope and ids', function () {
  this.timeout(60000);
  let gw: TestGateway;
  const admin = (path: string, o: { method?: string; body?: unknown } = {}) => api(gw.url, path, { ...o, headers: { authorization: `Bearer ${TOKEN}` } });
  type Client = { id: string; hashKey: string; portalKey: string; portalKeyId: string };
  const clients: Client[] = [];
  // Per client: one published PORTAL message for the same partnerRef, with a PDF.
  const messages: { messageId: number; remoteId: string }[] = [];

  const newClient = async (name: string): Promise<Client> => {
    const c = await admin(CLIENTS, { body: { data: { type: 'clients', attributes: { name, defaultFromAddress: 'portal@example.com' } } } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const k = await admin(`${CLIENTS}/${c.body.data.id}/portal-keys`, { method: 'POST' });
    assert.equal(k.status, 201, JSON.stringify(k.body));
    return { id: c.body.data.id, hashKey: c.body.data.attributes.hashKey, portalKey: k.body.data.attributes.key, portalKeyId: k.body.data.id };
  };
  const sendPortal = async (c: Client, subject: string, extra: Record<string, unknown> = {}) => {
    const r = await postJson(gw.url, { recipientName: 'Kovács Őszike', mailSubject: subject, mailBody: `${subject} tartalma`, channel: 'PORTAL', partnerRef: 'SAME-REF', recipientEmailAddress: 'ugyfel@example.com', ...extra }, { 'X-Client-Hash-Key': c.hashKey });
    assert.equal(r.status, 200, r.text);
    await waitForStatus(gw, r.json.messageId, 'SENT');
    const status = await api(gw.url, `/hammy/json/send/v2/messages/${r.json.messageId}`, { key: c.hashKey });
    return { messageId: r.json.messageId as number, remoteId: status.body.data.attributes.remoteContentId as string };
  };
  const portal = (path: string, o: { key?: string; recipient?: string; method?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${gw.url}/portal/v1${path}`, {
      method: o.method ?? 'GET',
      headers: { ...(o.key ? { 'X-Portal-Key': o.key } : {}), ...(o.recipient ? { 'X-Recipient-Id': o.recipient } : {}), ...o.headers },
    });
  const reads = async (messageId: number) => (await gw.db.knex('message_events').where({ message_id: messageId, status: 'READ' })).length;

  before(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
    clients.push(await newClient('Első Kft.'), await newClient('Második Zrt.'));
    for (const c of clients) messages.push(await sendPortal(c, `Levél ${c.id}`, { attachments: [{ fileName: 'minta.pdf', content: pdf.toString('base64') }] }));
  });
  after(async () => gw?.stop());

  it('the status API shows a random remoteContentId (64 hex), not the messageId', () => {
    for (const m of messages) assert.match(m.remoteId, /^[0-9a-f]{64}$/);
    assert.notEqual(messages[0]!.remoteId, messages[1]!.remoteId);
  });

  it('the right key and recipient read precondition, message, PDF and list; the list names remoteContentIds', async () => {
    const [c] = clients;
    const m = messages[0]!;
    assert.equal((await portal(`/messages/${m.remoteId}/precondition`, { key: c!.portalKey, recipient: 'SAME-REF' })).status, 200);
    const res = await portal(`/messages/${m.remoteId}`, { key: c!.portalKey, recipient: 'SAME-REF' });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.details.subject, `Levél ${c!.id}`);
    assert.deepEqual(body.attachments, [{ id: '0', content_type: 'application/pdf', name: 'minta.pdf', url: 'attachments/0', category: 'DOCUMENT' }]);
    const bytes = Buffer.from(await (await portal(`/messages/${m.remoteId}/${body.attachments[0].url}`, { key: c!.portalKey, recipient: 'SAME-REF' })).arrayBuffer());
    assert.ok(bytes.equals(pdf));
    const list = await (await portal('/recipients/SAME-REF/messages', { key: c!.portalKey, recipient: 'SAME-REF' })).json();
    assert.deepEqual(list.items.map((i: any) => i.id), [m.remoteId]);
    assert.equal(await reads(m.messageId), 1);
  });

  it('without a valid key (missing, wrong) every route is 401 and nothing is recorded', async () => {
    const fresh = await sendPortal(clients[0]!, 'Kulcs nélkül');
    for (const key of [undefined, 'not-a-key', clients[0]!.portalKey.replace(/.$/, (ch) => (ch === '0' ? '1' : '0'))]) {
      for (const p of [`/messages/${fresh.remoteId}/precondition`, `/messages/${fresh.remoteId}`, `/messages/${fresh.remoteId}/attachments/0`, '/recipients/SAME-REF/messages']) {
        const res = await portal(p, { key, recipient: 'SAME-REF' });
        assert.equal(res.status, 401, `${p} with ${key}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /X-Portal-Key/);
      }
    }
    assert.equal(await reads(fresh.messageId), 0, 'no READ without a key');
    assert.equal((await gw.db.knex('messages').where({ id: fresh.messageId }).first()).read_at, null);
  });

  it("another client's key gets the same 404 as a missing message; two clients with one partnerRef never see each other's messages", async () => {
    const [a, b] = clients;
    const notFound = PORTAL_MISS;
    for (const p of [`/messages/${messages[1]!.remoteId}/precondition`, `/messages/${messages[1]!.remoteId}`, `/messages/${messages[1]!.remoteId}/attachments/0`]) {
      const res = await portal(p, { key: a!.portalKey, recipient: 'SAME-REF' });
      assert.equal(res.status, 404, p);
      assert.deepEqual(await res.json(), notFound);
    }
    const listA = await (await portal('/recipients/SAME-REF/messages', { key: a!.portalKey, recipient: 'SAME-REF' })).json();
    const listB = await (await portal('/recipients/SAME-REF/messages', { key: b!.portalKey, recipient: 'SAME-REF' })).json();
    assert.ok(!listA.items.some((i: any) => i.id === messages[1]!.remoteId), "A's list holds nothing of B");
    assert.deepEqual(listB.items.map((i: any) => i.id), [messages[1]!.remoteId]);
    assert.equal(await reads(messages[1]!.messageId), 0, "A's attempt recorded nothing on B's message");
  });

  it('every miss is the same 404: wrong recipient, numeric messageId, unknown id, an attachment of another message, a non-PORTAL message', async () => {
    const [a] = clients;
    const m = messages[0]!;
    const email = await postJson(gw.url, { recipientName: 'E', mailSubject: 'e-mail', mailBody: 'x', recipientEmailAddress: 'e@example.com', partnerRef: 'SAME-REF' }, { 'X-Client-Hash-Key': a!.hashKey });
    const emailRow = await gw.db.knex('messages').where({ id: email.json.messageId }).first('remote_content_id');
    const noAttachments = await sendPortal(a!, 'Melléklet nélkül');
    const misses = [
      [`/messages/${m.remoteId}`, 'OTHER-REF'],
      [`/messages/${m.remoteId}`, undefined],
      [`/messages/${m.messageId}`, 'SAME-REF'],
      [`/messages/${m.messageId}/precondition`, 'SAME-REF'],
      [`/messages/${m.messageId}/attachments/0`, 'SAME-REF'],
      [`/messages/${'0'.repeat(64)}`, 'SAME-REF'],
      [`/messages/${noAttachments.remoteId}/attachments/0`, 'SAME-REF'],
      [`/messages/${m.remoteId}/attachments/1`, 'SAME-REF'],
      [`/messages/${emailRow.remote_content_id}`, 'SAME-REF'],
      ['/recipients/SAME-REF/messages', 'OTHER-REF'],
    ] as const;
    for (const [p, recipient] of misses) {
      const res = await portal(p, { key: a!.portalKey, recipient });
      assert.equal(res.status, 404, `${p} as ${recipient}`);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.deepEqual(await res.json(), PORTAL_MISS, p);
    }
    assert.equal(await reads(noAttachments.messageId), 0);
  });

  it('HEAD reads nothing and records no READ (405, Allow: GET); the first GET does', async () => {
    const [a] = clients;
    const m = await sendPortal(a!, 'Csak fej');
    for (const p of [`/messages/${m.remoteId}`, `/messages/${m.remoteId}/precondition`]) {
      const res = await portal(p, { key: a!.portalKey, recipient: 'SAME-REF', method: 'HEAD' });
      assert.equal(res.status, 405, p);
      assert.equal(res.headers.get('allow'), 'GET');
    }
    assert.equal(await reads(m.messageId), 0, 'a HEAD records no READ');
    assert.equal((await portal(`/messages/${m.remoteId}`, { key: a!.portalKey, recipient: 'SAME-REF' })).status, 200);
    assert.equal(await reads(m.messageId), 1);
  });

  it("seed 004's headers: fiscal_code names the recipient; x-pagopa-lollipop-* and signature headers are accepted and ignored", async () => {
    const [a] = clients;
    const m = await sendPortal(a!, 'Lollipop');
    const lollipop = {
      'x-pagopa-lollipop-original-method': 'GET',
      'x-pagopa-lollipop-original-url': `https://example.invalid/messages/${m.remoteId}`,
      'x-pagopa-lollipop-public-key': 'eyJrdHkiOiJFQyJ9',
      'x-pagopa-lollipop-assertion-ref': 'sha256-AAAA',
      'x-pagopa-lollipop-assertion-type': 'SAML',
      'x-pagopa-lollipop-auth-jwt': 'aaa.bbb.ccc',
      'x-pagopa-lollipop-user-id': 'SAME-REF',
      'signature-input': 'sig1=("x-pagopa-lollipop-original-method");created=1618884475;keyid="test"',
      signature: 'sig1=:AAAA:',
      fiscal_code: 'SAME-REF',
    };
    const pre = await portal(`/messages/${m.remoteId}/precondition`, { key: a!.portalKey, headers: lollipop });
    assert.equal(pre.status, 200);
    const res = await portal(`/messages/${m.remoteId}`, { key: a!.portalKey, headers: lollipop });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).details.markdown, 'Lollipop tartalma');
  });

  it('a disabled client\'s key is 401; enabled again it works', async () => {
    const [a] = clients;
    const m = messages[0]!;
    assert.equal((await admin(`${CLIENTS}/${a!.id}`, { method: 'PATCH', body: { data: { type: 'clients', attributes: { enabled: false } } } })).status, 200);
    assert.equal((await portal(`/messages/${m.remoteId}`, { key: a!.portalKey, recipient: 'SAME-REF' })).status, 401);
    assert.equal((await admin(`${CLIENTS}/${a!.id}`, { method: 'PATCH', body: { data: { type: 'clients', attributes: { enabled: true } } } })).status, 200);
    assert.equal((await portal(`/messages/${m.remoteId}`, { key: a!.portalKey, recipient: 'SAME-REF' })).status, 200);
  });
  it('admin API: a key is shown once at creation, listed without it, stored only as its SHA-256; a revoked key is 401 at once', async () => {
    const c = clients[1]!;
    const made = await admin(`${CLIENTS}/${c.id}/portal-keys`, { method: 'POST' });
    assert.equal(made.status, 201);
    const { id, attributes } = made.body.data;
    assert.match(attributes.key, /^[0-9a-f]{40}$/);
    assert.equal(made.headers.get('location'), `${CLIENTS}/${c.id}/portal-keys/${id}`);
    const rows = await gw.db.knex('portal_keys').where({ client_id: Number(c.id) });
    assert.ok(!JSON.stringify(rows).includes(attributes.key), 'no row holds the key in clear');
    assert.ok(rows.some((r) => r.key_hash === createHash('sha256').update(attributes.key).digest('hex')), 'the row holds its SHA-256');
    const list = await admin(`${CLIENTS}/${c.id}/portal-keys`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((k: any) => k.id).sort(), [c.portalKeyId, id].sort());
    assert.ok(!JSON.stringify(list.body).includes(attributes.key), 'the list never shows a key');
    assert.ok(list.body.data.every((k: any) => k.attributes.key === undefined && k.attributes.createdAt));
    const m = messages[1]!;
    assert.equal((await portal(`/messages/${m.remoteId}/precondition`, { key: attributes.key, recipient: 'SAME-REF' })).status, 200);
    assert.ok((await admin(`${CLIENTS}/${c.id}/portal-keys`)).body.data.find((k: any) => k.id === id).attributes.lastUsedAt, 'the use is noted');
    assert.equal((await admin(`${CLIENTS}/${c.id}/portal-keys/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await portal(`/messages/${m.remoteId}/precondition`, { key: attributes.key, recipient: 'SAME-REF' })).status, 401, 'revoked: dead at once');
    assert.equal((await portal(`/messages/${m.remoteId}/precondition`, { key: c.portalKey, recipient: 'SAME-REF' })).status, 200, 'the other key still works');
    assert.deepEqual((await admin(`${CLIENTS}/${c.id}/portal-keys`)).body.data.map((k: any) => k.id), [c.portalKeyId]);
  });

  it('admin API errors: unknown client or key 404, a key of another client 404, no token 401', async () => {
    const [a, b] = clients;
    for (const [method, path] of [['POST', `${CLIENTS}/999999/portal-keys`], ['GET', `${CLIENTS}/999999/portal-keys`], ['DELETE', `${CLIENTS}/${a!.id}/portal-keys/999999`], ['DELETE', `${CLIENTS}/${a!.id}/portal-keys/x`], ['DELETE', `${CLIENTS}/${a!.id}/portal-keys/${b!.portalKeyId}`]] as const) {
      const r = await admin(path, { method });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.body.code, 6);
    }
    assert.equal((await portal(`/messages/${messages[1]!.remoteId}/precondition`, { key: b!.portalKey, recipient: 'SAME-REF' })).status, 200, "another client's DELETE left B's key alone");
    for (const method of ['POST', 'GET']) {
      const r = await api(gw.url, `${CLIENTS}/${a!.id}/portal-keys`, { method, headers: { authorization: 'Bearer wrong-token-0000000' } });
      assert.equal(r.status, 401, method);
      assert.equal(r.body.code, 2);
    }
    assert.equal((await api(gw.url, `${CLIENTS}/${a!.id}/portal-keys/${a!.portalKeyId}`, { method: 'DELETE' })).status, 401);
    assert.equal((await portal(`/messages/${messages[0]!.remoteId}/precondition`, { key: a!.portalKey, recipient: 'SAME-REF' })).status, 200, 'an unauthorised DELETE revoked nothing');
  });

  it('a message whose HTML is 80,000 <b> is answered, and /health answers while it is converted', async () => {
    const [a] = clients;
    const r = await postJson(gw.url, { recipientName: 'Nagy', mailSubject: 'Nagy HTML', mailHtmlBody: '<b>'.repeat(80_000), channel: 'PORTAL', partnerRef: 'BIG-REF', recipientEmailAddress: 'nagy@example.com' }, { 'X-Client-Hash-Key': a!.hashKey });
    assert.equal(r.status, 200, r.text);
    await waitForStatus(gw, r.json.messageId, 'SENT');
    const remoteId = (await api(gw.url, `/hammy/json/send/v2/messages/${r.json.messageId}`, { key: a!.hashKey })).body.data.attributes.remoteContentId;
    const started = Date.now();
    let done = false;
    const fetching = portal(`/messages/${remoteId}`, { key: a!.portalKey, recipient: 'BIG-REF' }).then(async (res) => {
      done = true;
      return { status: res.status, body: await res.json(), ms: Date.now() - started };
    });
    // /health asked again and again while the fetch runs: each answer's time is measured, none is asserted (CPU shared).
    const health: { status: number; ms: number }[] = [];
    while (!done) {
      const t = Date.now();
      // A new connection each time: a kept-alive one may be closed by the server just as it is reused.
      const status = await new Promise<number>((resolve, reject) => http.get(`${gw.url}/health`, { agent: false }, (res) => resolve(res.resume().statusCode!)).on('error', reject));
      health.push({ status, ms: Date.now() - t });
    }
    const answer = await fetching;
    console.log(`      80,000 <b>: portal answered in ${answer.ms} ms; ${health.length} /health answers meanwhile, slowest ${Math.max(...health.map((h) => h.ms))} ms`);
    assert.equal(answer.status, 200);
    assert.equal(typeof answer.body.details.markdown, 'string');
    assert.ok(health.length > 0 && health.every((h) => h.status === 200), '/health answered during the fetch');
  });
});
