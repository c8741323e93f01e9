// The render budget by itself (core/render-budget.ts); render.test.ts exercises it through renderTemplate.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type Handlebars from 'handlebars';
import { meterEngine, RenderBudget, RenderOverBound, withBudget } from '../../src/core/render-budget.js';

const far = () => performance.now() + 60_000;
const over = (bound: RenderOverBound['bound']) => (e: unknown) => e instanceof RenderOverBound && e.bound === bound;

describe('render-budget: RenderBudget', () => {
  it('charge counts each value written; at the bound passes, past it throws the output-size bound', () => {
    const b = new RenderBudget({ maxBytes: 10, maxMs: 1000 }, far());
    assert.equal(b.charge('12345'), '12345');
    assert.equal(b.charge(42), 42, 'a value that is not a string costs nothing and comes back as it was');
    b.charge('12345');
    assert.throws(() => b.charge('x'), over('output size'));
  });

  it('run counts what a body adds, nested bodies once, not once per level', () => {
    const b = new RenderBudget({ maxBytes: 10, maxMs: 1000 }, far());
    const out = b.run(() => `${b.run(() => `${b.run(() => 'abc')}def`)}gh`);
    assert.equal(out, 'abcdefgh');
    b.run(() => 'ij'); // 10 in all
    assert.throws(() => b.run(() => 'k'), over('output size'));
  });

  it('finish measures UTF-8 bytes, not characters', () => {
    const b = new RenderBudget({ maxBytes: 4, maxMs: 1000 }, far());
    assert.equal(b.finish('éé'), 'éé');
    assert.throws(() => b.finish('ééé'), (e: unknown) => over('output size')(e) && /more than 4 bytes/.test((e as Error).message));
  });

  it('past the deadline, a body and the clock check throw the time bound; a value checks it every 64th', () => {
    const b = new RenderBudget({ maxBytes: 1e6, maxMs: 7 }, performance.now() - 1);
    assert.throws(() => b.checkClock(), (e: unknown) => over('time')(e) && /longer than 7 ms/.test((e as Error).message));
    assert.throws(() => b.run(() => 'x'), over('time'));
    for (let i = 1; i < 64; i++) b.charge('v');
    assert.throws(() => b.charge('v'), over('time'));
  });
});

describe('render-budget: meterEngine and withBudget', () => {
  const hb = (createRequire(import.meta.url)('handlebars') as typeof Handlebars).create();
  meterEngine(hb);
  const loop = hb.compile('{{#each items}}{{this}}{{/each}}', { strict: true });
  const items = Array.from({ length: 100 }, () => 'abcdefghij'); // 1000 characters

  it('a metered engine renders as before within the budget', () => {
    const b = new RenderBudget({ maxBytes: 1000, maxMs: 60_000 }, far());
    assert.equal(withBudget(b, () => b.finish(loop({ items }))), items.join(''));
    assert.equal(hb.compile('<b>{{x}}</b>')({ x: '<i>' }), '<b>&lt;i&gt;</b>', 'escaping still happens');
  });

  it('the loop is stopped as soon as it writes past the bound, before the text is finished', () => {
    const b = new RenderBudget({ maxBytes: 999, maxMs: 60_000 }, far());
    assert.throws(() => withBudget(b, () => loop({ items })), over('output size'));
  });

  it('nested blocks: text is counted once, so exactly the bound renders and one byte less refuses', () => {
    const nestedLoop = hb.compile('{{#each rows}}[{{#each this}}{{this}}{{/each}}]{{/each}}', { strict: true });
    const rows = Array.from({ length: 10 }, () => Array.from({ length: 10 }, () => 'abcdefghi')); // 10 × (2 + 90)
    const at = new RenderBudget({ maxBytes: 920, maxMs: 60_000 }, far());
    assert.equal(withBudget(at, () => at.finish(nestedLoop({ rows }))).length, 920);
    const under = new RenderBudget({ maxBytes: 919, maxMs: 60_000 }, far());
    assert.throws(() => withBudget(under, () => nestedLoop({ rows })), over('output size'));
  });

  it('partials run through the budget: many calls of a partial are stopped at the bound', () => {
    const t = hb.compile('{{#*inline "a"}}xxxxxxxxxx{{/inline}}{{#*inline "b"}}' + '{{> a}}'.repeat(20) + '{{/inline}}{{> b}}');
    const at = new RenderBudget({ maxBytes: 200, maxMs: 60_000 }, far());
    assert.equal(withBudget(at, () => at.finish(t({}))), 'x'.repeat(200));
    const under = new RenderBudget({ maxBytes: 199, maxMs: 60_000 }, far());
    assert.throws(() => withBudget(under, () => t({})), over('output size'));
  });

  it('outside withBudget nothing is charged; after a render that threw, the budget is released', () => {
    const small = new RenderBudget({ maxBytes: 5, maxMs: 60_000 }, far());
    assert.throws(() => withBudget(small, () => loop({ items })), over('output size'));
    assert.equal(loop({ items }), items.join(''));
  });
});
