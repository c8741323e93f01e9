// Group commit: a lone write goes at once; writes that queue behind a busy one share the next batch; a batch an
// item's values made fail is retried item by item so only the bad item fails; any other error is every request's.
import assert from 'node:assert/strict';
import { CannotShare, groupCommit, itemError } from '../../src/store/group-commit.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('group commit', () => {
  it('writes a lone item on its own, then batches what queued while it was busy, in order', async () => {
    const calls: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const write = groupCommit<number, number>(
      async (items) => {
        calls.push(`many ${items.join(',')}`);
        return items.map((i) => i * 10);
      },
      async (item) => {
        calls.push(`one ${item}`);
        await gate;
        return item * 10;
      },
      { maxBatch: 3, maxConcurrent: 1 },
    );
    const first = write(1);
    await tick();
    const rest = [2, 3, 4, 5, 6].map((i) => write(i));
    release();
    assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40, 50, 60]);
    assert.deepEqual(calls, ['one 1', 'many 2,3,4', 'many 5,6']);
  });

  it('never runs more batches at once than allowed', async () => {
    let running = 0;
    let most = 0;
    const write = groupCommit<number, number>(
      async (items) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return items;
      },
      async (item) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return item;
      },
      { maxBatch: 4, maxConcurrent: 2 },
    );
    const out = await Promise.all(Array.from({ length: 40 }, (_, i) => write(i)));
    assert.deepEqual(out, Array.from({ length: 40 }, (_, i) => i));
    assert.equal(most, 2);
  });

  it('a batch refused for an item (a constraint, SQLSTATE 23503) is written item by item: the bad item fails alone, the others succeed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const write = groupCommit<number, string>(
      async (items) => {
        if (items.includes(13)) throw Object.assign(new Error('insert violates foreign key constraint'), { code: '23503' });
        return items.map(String);
      },
      async (item) => {
        if (item === 0) await gate;
        if (item === 13) throw new Error('13 is bad');
        return `one ${item}`;
      },
      { maxBatch: 10, maxConcurrent: 1 },
    );
    const busy = write(0);
    await tick();
    const pending = Promise.allSettled([12, 13, 14].map((i) => write(i)));
    release();
    await busy;
    const results = await pending;
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
      ['one 12', '13 is bad', 'one 14'],
    );
  });

  /** A write busy with item 0 until released, so that the items written next share one batch; `alone` lists the items written on their own. */
  function behindBusy(writeMany: (items: number[]) => Promise<string[]>) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const alone: number[] = [];
    const write = groupCommit<number, string>(writeMany, async (item) => {
      if (item === 0) await gate;
      alone.push(item);
      return `one ${item}`;
    }, { maxBatch: 10, maxConcurrent: 1 });
    const busy = write(0);
    return { write, alone, busy, release };
  }

  it('a shared statement that fails for no item (a lost connection): every request of the batch gets that error, none is written again', async () => {
    const lost = new Error('Connection terminated unexpectedly');
    const { write, alone, busy, release } = behindBusy(async () => {
      throw lost;
    });
    await tick();
    const results = Promise.allSettled([1, 2, 3].map((i) => write(i)));
    release();
    assert.equal(await busy, 'one 0');
    assert.deepEqual((await results).map((r) => (r.status === 'rejected' ? r.reason : r.value)), [lost, lost, lost]);
    assert.deepEqual(alone, [0], 'no item of the failed batch is written on its own (it may have been committed)');
  });

  it('a batch answering the wrong number of results fails every request of it: the statement wrote, writing again would write twice', async () => {
    const { write, alone, busy, release } = behindBusy(async () => ['only one']);
    await tick();
    const results = Promise.allSettled([1, 2, 3].map((i) => write(i)));
    release();
    await busy;
    for (const r of await results) {
      assert.equal(r.status, 'rejected');
      assert.match(String((r as PromiseRejectedResult).reason), /answered 1 results for 3 items/);
    }
    assert.deepEqual(alone, [0]);
  });

  it('itemError: constraint and data errors and CannotShare are an item\'s; connection, timeout and others are not', () => {
    for (const code of ['23505', '23503', '22P02', '22001', '21000']) assert.equal(itemError(Object.assign(new Error(), { code })), true, code);
    assert.equal(itemError(new CannotShare('one window')), true);
    for (const e of [new Error('Connection terminated'), Object.assign(new Error(), { code: '57014' }), Object.assign(new Error(), { code: 'ECONNRESET' }), undefined]) assert.equal(itemError(e), false, String(e));
  });
});
