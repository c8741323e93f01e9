// What the tool prints for a batch: the terminal bar and the plain line, counts in the order a batch moves through.
import assert from 'node:assert/strict';
import { batchLine, countsText, progressBar } from '../../src/cli/render.js';

describe('hammy output', () => {
  const state = { total: 4, pending: 1, final: false, counts: { FAILED: 1, QUEUED: 1, SENT: 2 } };

  it('counts run from waiting to final statuses, unknown ones last', () => {
    assert.equal(countsText({ FAILED: 1, SENT: 2, QUEUED: 1, ODD: 3 }), 'QUEUED 1, SENT 2, FAILED 1, ODD 3');
  });

  it('the plain line names the batch, the final share and the counts', () => {
    assert.equal(batchLine('B-1', state), 'batch B-1: 3/4 final (QUEUED 1, SENT 2, FAILED 1)');
  });

  it('the bar fills with the final share', () => {
    assert.equal(progressBar('B-1', state, 8), 'B-1 [######--] 3/4  QUEUED 1, SENT 2, FAILED 1');
    assert.equal(progressBar('B-1', { ...state, pending: 0, final: true }, 8), 'B-1 [########] 4/4  QUEUED 1, SENT 2, FAILED 1');
    assert.equal(progressBar('E', { total: 0, pending: 0, final: true, counts: {} }, 4), 'E [----] 0/0  ');
  });
});
