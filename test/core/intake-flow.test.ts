// Intake flow control: accepts wait while the delivery backlog is long and a worker is draining it, go as soon
// as it is short again, never wait longer than the limit, and never wait on a backlog nobody drains or on a
// probe that fails.
import assert from 'node:assert/strict';
import { createIntakeFlow, type Backlog } from '../../src/core/intake-flow.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A probe whose answer the test sets, counting its calls. */
function probeOf(initial: Backlog | Error) {
  let answer = initial;
  let calls = 0;
  return {
    probe: async () => {
      calls++;
      if (answer instanceof Error) throw answer;
      return answer;
    },
    set: (b: Backlog | Error) => (answer = b),
    calls: () => calls,
  };
}

/** Lets the flow take its first look, so the next admit() sees that answer. */
async function primed(o: Parameters<typeof createIntakeFlow>[0]) {
  const flow = createIntakeFlow(o);
  await flow.admit();
  await sleep(o.probeMs + 5);
  return flow;
}

describe('intake flow control', () => {
  it('lets requests through at once while the backlog is short', async () => {
    const p = probeOf({ waiting: 10, running: 4 });
    const flow = await primed({ highWater: 100, maxDelayMs: 1000, probeMs: 10, probe: p.probe });
    const t0 = performance.now();
    await flow.admit();
    assert.ok(performance.now() - t0 < 50);
    assert.deepEqual(flow.state(), { congested: false, waiting: 10, running: 4, delayed: 0 });
    flow.close();
  });

  it('holds a request while a worker drains a long backlog, and lets it go when the backlog is short again', async () => {
    const p = probeOf({ waiting: 500, running: 8 });
    let delays = 0;
    const flow = await primed({ highWater: 100, maxDelayMs: 5000, probeMs: 10, probe: p.probe, onDelay: () => delays++ });
    let done = false;
    const held = flow.admit().then(() => (done = true));
    await sleep(60);
    assert.equal(done, false, 'the request must wait while the backlog is long');
    p.set({ waiting: 50, running: 8 });
    const t0 = performance.now();
    await held;
    assert.ok(performance.now() - t0 < 1000, 'released by the next look, long before the limit');
    assert.equal(delays, 1);
    assert.equal((flow.state() as { delayed: number }).delayed, 1);
    flow.close();
  });

  it('never holds a request longer than the limit', async () => {
    const p = probeOf({ waiting: 500, running: 8 });
    const flow = await primed({ highWater: 100, maxDelayMs: 80, probeMs: 10, probe: p.probe });
    const t0 = performance.now();
    await flow.admit();
    const waited = performance.now() - t0;
    assert.ok(waited >= 70 && waited < 1000, `waited ${waited} ms`);
    assert.equal((flow.state() as { congested: boolean }).congested, true);
    flow.close();
  });

  it('does not hold requests when no worker is delivering: waiting would not shorten the queue', async () => {
    const p = probeOf({ waiting: 5000, running: 0 });
    const flow = await primed({ highWater: 100, maxDelayMs: 5000, probeMs: 10, probe: p.probe });
    const t0 = performance.now();
    await flow.admit();
    assert.ok(performance.now() - t0 < 50);
    flow.close();
  });

  it('lets requests through when the backlog cannot be read, and says so once', async () => {
    const p = probeOf(new Error('database away'));
    const errors: unknown[] = [];
    const flow = await primed({ highWater: 100, maxDelayMs: 5000, probeMs: 10, probe: p.probe, onProbeError: (e) => errors.push(e) });
    const t0 = performance.now();
    await flow.admit();
    assert.ok(performance.now() - t0 < 50);
    assert.match(String(errors[0]), /database away/);
    await sleep(30);
    await flow.admit();
    assert.equal(errors.length, 1, 'told once while it keeps failing, not at every look');
    flow.close();
  });

  it('releases waiting requests when it closes', async () => {
    const p = probeOf({ waiting: 500, running: 8 });
    const flow = await primed({ highWater: 100, maxDelayMs: 60_000, probeMs: 10, probe: p.probe });
    const held = flow.admit();
    await sleep(20);
    flow.close();
    await held; // would time the test out if close() left it waiting
  });

  it('is off with a high water of 0 or no delay: the backlog is never read', async () => {
    for (const o of [
      { highWater: 0, maxDelayMs: 1000 },
      { highWater: 100, maxDelayMs: 0 },
    ]) {
      const p = probeOf({ waiting: 5000, running: 8 });
      const flow = createIntakeFlow({ ...o, probeMs: 10, probe: p.probe });
      await flow.admit();
      await sleep(20);
      await flow.admit();
      assert.equal(p.calls(), 0);
      assert.equal(flow.state(), 'off');
      flow.close();
    }
  });

  it('looks at the backlog at most once per interval however many requests arrive', async () => {
    const p = probeOf({ waiting: 1, running: 1 });
    const flow = createIntakeFlow({ highWater: 100, maxDelayMs: 1000, probeMs: 1000, probe: p.probe });
    await Promise.all(Array.from({ length: 50 }, () => flow.admit()));
    await sleep(10);
    await Promise.all(Array.from({ length: 50 }, () => flow.admit()));
    assert.equal(p.calls(), 1);
    flow.close();
  });
});
