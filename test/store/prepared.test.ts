// The accept, claim and settle statements are named prepared statements on PostgreSQL (store/prepared.ts). They
// are prepared once per connection and keep working when a newer gateway's migration changes the tables under a
// running one (a statement with `m.*` would fail with "cached plan must not change result type").
import assert from 'node:assert/strict';
import { DEMO_KEY, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/rest.js';

const send = async (gw: TestGateway, n: number) => {
  const r = await postJson(gw.url, { recipientEmailAddress: `prepared-${n}@example.com`, recipientName: 'P', mailSubject: `prepared ${n}`, mailBody: 'b' }, { 'x-client-hash-key': DEMO_KEY });
  assert.equal(r.status, 200, r.text);
  return r.json.messageId as number;
};

describe('prepared hot statements (PostgreSQL)', function () {
  this.timeout(30000);
  let gw: TestGateway;
  // One database connection, so the statements prepared by the first sends are the ones the later sends reuse.
  before(async () => {
    gw = await startTestGateway({ DB_POOL_MAX: '1', WORKER_CONCURRENCY: '1' });
  });
  after(async () => gw?.stop());

  it('are prepared by name on the connection and reused', async () => {
    for (let i = 0; i < 3; i++) await waitForStatus(gw, await send(gw, i), 'SENT', 5000);
    const names = (await gw.db.knex.raw(`select name from pg_prepared_statements order by name`)).rows.map((r: { name: string }) => r.name);
    assert.deepEqual(names.filter((n: string) => n.startsWith('hammy_')), ['hammy_accept_1', 'hammy_claim_1', 'hammy_settle_1']);
  });

  it('keep accepting, claiming and settling after a migration adds and drops columns of their tables', async () => {
    await waitForStatus(gw, await send(gw, 10), 'SENT', 5000);
    await gw.db.knex.schema.alterTable('messages', (t) => t.text('added_by_a_newer_gateway'));
    await gw.db.knex.schema.alterTable('jobs', (t) => t.integer('priority'));
    await gw.db.knex.schema.alterTable('message_events', (t) => t.text('actor'));
    const id = await send(gw, 11);
    await waitForStatus(gw, id, 'SENT', 5000);
    assert.ok(gw.smtp.received.some((m) => m.mail.subject === 'prepared 11'));
    await gw.db.knex.schema.alterTable('messages', (t) => t.dropColumn('added_by_a_newer_gateway'));
    await waitForStatus(gw, await send(gw, 12), 'SENT', 5000);
  });
});
