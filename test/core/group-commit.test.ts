// Group commit: a lone write goes at once; writes that queue behind a busy one share the next batch; a failed
// batch is retried item by item so only the bad item fails.
import assert from 'node:assert/strict';
import { groupCommit } from '../../src/store/group-commit.js';

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

  it('a failing batch is written item by item: the bad item fails alone, the others succeed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const write = groupCommit<number, string>(
      async (items) => {
        if (items.includes(13)) throw new Error('batch refused');
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

  it('a batch answering the wrong number of results is not trusted: each item is written on its own', async () => {
    const write = groupCommit<number, string>(async () => ['only one'], async (i) => `one ${i}`, { maxBatch: 10, maxConcurrent: 1 });
    const out = await Promise.all([1, 2, 3].map((i) => write(i)));
    assert.deepEqual(out, ['one 1', 'one 2', 'one 3']);
  });
});
