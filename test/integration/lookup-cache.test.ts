// Client reads are reused only while this gateway listens for changes: a lost listener means fresh reads.
import { keyHash } from '../../src/core/secrets.js';
import assert from 'node:assert/strict';
import { eventually, startTestGateway, DEMO_KEY, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

const send = (url: string) => postSoap(url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: 'Cache', recipientEmailAddress: 'cache@example.com', mailSubject: 'cache', mailBody: 'b' }));

describe('client and template read cache', function () {
  this.timeout(60000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ WORKER: 'false', LOOKUP_CACHE_MS: '600000' });
  });
  after(async () => gw?.stop());

  it('a change made in plain SQL is not seen while the cache may reuse the read; once the listener is lost, reads are fresh', async () => {
    const app = `hammy-lookups ${gw.schema} pid ${process.pid}`;
    const cache = async () => ((await (await fetch(`${gw.url}/health`)).json()) as { parts: { lookupCache: { reused: boolean; listener: string } } }).parts.lookupCache;
    // The connection shows in pg_stat_activity before its LISTEN is done; reads are reused only after that.
    await eventually(async () => (await cache()).reused, 5000, 'the listener');
    assert.equal((await gw.db.knex.raw('select 1 from pg_stat_activity where application_name = ?', [app])).rows.length, 1);
    assert.equal((await send(gw.url)).code, 0);
    await gw.db.knex('clients').where({ key_hash: keyHash(DEMO_KEY) }).update({ enabled: false });
    try {
      // Around the API nobody is told: the read stays in use (the documented limit of LOOKUP_CACHE_MS).
      assert.equal((await send(gw.url)).code, 0);
      const killed = await gw.db.knex.raw('select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = ?', [app]);
      assert.equal(killed.rows.length, 1);
      // Without its listener the gateway cannot hear of changes, so it forgets and stops reusing reads.
      await eventually(async () => (await send(gw.url)).code === 2, 5000, 'the disabled client to be refused');
      // The listener is connected again after its retry wait.
      await eventually(async () => (await cache()).listener === 'connected', 10000, 'the listener to be back');
    } finally {
      await gw.db.knex('clients').where({ key_hash: keyHash(DEMO_KEY) }).update({ enabled: true });
    }
  });
});
