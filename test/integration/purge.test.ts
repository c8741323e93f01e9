// Idempotency records past their window are purged by the worker in small batches (issue 16), so the tables stay
// bounded; records inside the window stay and still answer a repeated request. Finished jobs need no purge: a
// settle deletes its job (asserted here too).
import assert from 'node:assert/strict';
import { purgeExpiredKeys } from '../../src/store/purge.js';
import { DEMO_KEY, eventually, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/rest.js';

const count = async (gw: TestGateway, table: string) => Number((await gw.db.knex(table).count('* as n'))[0]!.n);
/** Rows aged past a one-hour window, as many accepts long ago would have left them. */
async function expired(gw: TestGateway, n: number) {
  const k = gw.db.knex;
  await k.raw(`insert into request_keys (client_id, request_id, payload_hash, message_id, created_at)
               select 1, 'old-' || g, 'h', g, now() - interval '2 hours' from generate_series(1, ?) g`, [n]);
  await k.raw(`insert into idempotency_keys (client_id, key, payload_hash, message_id, created_at)
               select 1, 'old-' || g, 'h', g, now() - interval '2 hours' from generate_series(1, ?) g`, [n]);
}
const send = (gw: TestGateway, requestId: string, key: string) =>
  postJson(gw.url, { clientHashKey: DEMO_KEY, requestId, recipientEmailAddress: 'p@example.com', recipientName: 'P', mailSubject: 'purge', mailBody: 'b' }, { 'Idempotency-Key': key });

describe('purge of expired idempotency records', function () {
  this.timeout(60000);

  it('one statement takes at most 1,000 rows of each table, the oldest past the window, none inside it', async () => {
    const gw = await startTestGateway({ WORKER: 'false', IDEMPOTENCY_WINDOW_HOURS: '1' });
    try {
      await expired(gw, 1500);
      assert.equal((await send(gw, 'fresh-1', 'fresh-key-1')).status, 200);
      assert.equal(await purgeExpiredKeys(gw.db.knex, 3600_000), 2000, '1,000 from each table');
      assert.equal(await purgeExpiredKeys(gw.db.knex, 3600_000), 1000, 'the 500 left in each');
      assert.equal(await purgeExpiredKeys(gw.db.knex, 3600_000), 0);
      assert.equal(await count(gw, 'request_keys'), 1);
      assert.equal(await count(gw, 'idempotency_keys'), 1);
    } finally {
      await gw.stop();
    }
  });

  it('the worker purges them as it runs (PURGE_INTERVAL_MS); a repeated request inside the window still gets its message', async () => {
    const gw = await startTestGateway({ IDEMPOTENCY_WINDOW_HOURS: '1', PURGE_INTERVAL_MS: '100' });
    try {
      await expired(gw, 2500);
      const first = await send(gw, 'fresh-2', 'fresh-key-2');
      assert.equal(first.status, 200, first.text);
      const id = Number(first.json.messageId);
      assert.ok(id > 0);
      await eventually(async () => (await count(gw, 'request_keys')) === 1 && (await count(gw, 'idempotency_keys')) === 1, 20000, 'expired rows purged');
      const again = await send(gw, 'fresh-2', 'fresh-key-2');
      assert.equal(again.status, 200, again.text);
      assert.equal(Number(again.json.messageId), id, 'the same message, not a new one');
      await waitForStatus(gw, id, 'SENT');
      await eventually(async () => (await count(gw, 'jobs')) === 0, 10000, 'the finished job is gone');
    } finally {
      await gw.stop();
    }
  });
});
