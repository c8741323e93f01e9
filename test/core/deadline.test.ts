// withDeadline: late work rejects with a DeadlineError, whether its timer fired or the event loop was kept busy past it.
import assert from 'node:assert/strict';
import { DeadlineError, withDeadline } from '../../src/core/deadline.js';

const busyFor = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('withDeadline', () => {
  it('answers as the work does when it ends in time', async () => {
    assert.equal(await withDeadline(Promise.resolve(7), 1000, 'quick work'), 7);
    await assert.rejects(withDeadline(Promise.reject(new Error('own failure')), 1000, 'failing work'), /own failure/);
  });

  it('rejects work that has not ended by the deadline', async () => {
    const never = new Promise<number>(() => undefined);
    await assert.rejects(withDeadline(never, 5, 'hanging work'), (e) => e instanceof DeadlineError && e.message === 'hanging work took longer than 5 ms');
  });

  it('rejects work that ended only after keeping the event loop busy past the deadline (its timer could not fire)', async () => {
    // Synchronous work resolved in a microtask: without measuring, it would win the race against the timer.
    const work = (async () => {
      await Promise.resolve();
      busyFor(20);
      return 'laid out';
    })();
    await assert.rejects(withDeadline(work, 5, 'making the letter'), (e) => e instanceof DeadlineError && e.message === 'making the letter took longer than 5 ms');
  });
});
