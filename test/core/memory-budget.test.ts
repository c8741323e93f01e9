// The shared body budget (core/memory-budget.ts): bytes held at once, the order of waiters, the anonymous allowance.
import assert from 'node:assert/strict';
import { BodyMemory } from '../../src/core/memory-budget.js';
import { ServerBusy } from '../../src/core/errors.js';

const budget = (totalBytes: number, anonymousBytes = totalBytes, waitMs = 5000) => new BodyMemory({ totalBytes, anonymousBytes, waitMs });

describe('body memory budget', () => {
  it('holds at most the budget at once, in arrival order; one larger than the budget runs alone', async () => {
    const memory = budget(10);
    let held = 0;
    let most = 0;
    const order: string[] = [];
    const task = (name: string, bytes: number) =>
      memory.withBytes(bytes, async () => {
        held += Math.min(bytes, 10);
        most = Math.max(most, held);
        order.push(name);
        await new Promise((r) => setTimeout(r, 5));
        held -= Math.min(bytes, 10);
      });
    await Promise.all([task('a', 6), task('b', 6), task('c', 3), task('big', 50), task('d', 1)]);
    assert.equal(most, 10);
    assert.deepEqual(order, ['a', 'b', 'c', 'big', 'd']);
    assert.equal(memory.available, 10);
  });

  it('a task that throws gives its bytes back', async () => {
    const memory = budget(4);
    await assert.rejects(memory.withBytes(4, async () => Promise.reject(new Error('insert failed'))), /insert failed/);
    assert.equal(await memory.withBytes(4, async () => 'next'), 'next');
  });

  it('a request that waits past waitMs is refused as busy (code 9, with a Retry-After), and the queue moves on', async () => {
    const memory = budget(10, 10, 50);
    const first = await memory.reserve(8, false);
    const refused = await memory.reserve(8, false).catch((e) => e);
    assert.ok(refused instanceof ServerBusy);
    assert.equal(refused.status, 9);
    assert.equal(refused.retryAfterS, 1);
    const small = await memory.reserve(2, false);
    first.release();
    small.release();
    assert.equal(memory.available, 10);
  });

  it('a lease grows without waiting: false once the budget is used up; give() and release() hand the bytes back', async () => {
    const memory = budget(10);
    const lease = memory.open(false);
    assert.equal(lease.take(6), true);
    assert.equal(lease.take(6), false);
    assert.equal(lease.held, 6);
    lease.give(4);
    assert.equal(memory.available, 8);
    lease.release();
    lease.release(); // twice gives back nothing more
    assert.equal(memory.available, 10);
  });

  it('anonymous bodies share only their allowance: a large one runs alone among them, known clients pass', async () => {
    const memory = budget(100, 20, 5000);
    const big = await memory.reserve(50, true); // larger than the allowance: holds all of it
    let second = false;
    const waiting = memory.reserve(5, true).then((l) => ((second = true), l));
    const known = await memory.reserve(40, false); // passes the waiting anonymous one
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(second, false);
    big.release();
    const l = await waiting;
    assert.equal(second, true);
    l.release();
    known.release();
    assert.equal(memory.available, 100);
  });
});
