// The shape bounds checked on a JSON body before JSON.parse (core/json-bounds.ts): keys, depth, strings skipped.
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/errors.js';
import { checkJsonShape, jsonShapeExcess, MAX_JSON_DEPTH, MAX_JSON_KEYS } from '../../src/core/json-bounds.js';

const objectWithKeys = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);

describe('json-bounds: jsonShapeExcess', () => {
  it('keys: at the bound passes, one more is refused naming the bound', () => {
    assert.equal(jsonShapeExcess(objectWithKeys(5), 5), undefined);
    assert.equal(jsonShapeExcess(objectWithKeys(6), 5), 'has more than 5 keys');
  });

  it('keys are counted across nested objects and array items', () => {
    const text = JSON.stringify({ a: [{ b: 1 }, { c: 2 }], d: { e: 3 } }); // a b c d e
    assert.equal(jsonShapeExcess(text, 5), undefined);
    assert.equal(jsonShapeExcess(text, 4), 'has more than 4 keys');
  });

  it('the default bounds: MAX_JSON_KEYS keys pass, one more does not', () => {
    assert.equal(jsonShapeExcess(objectWithKeys(MAX_JSON_KEYS)), undefined);
    assert.equal(jsonShapeExcess(objectWithKeys(MAX_JSON_KEYS + 1)), `has more than ${MAX_JSON_KEYS} keys`);
  });

  it('depth: at the bound passes, one level more is refused, for arrays, objects and both mixed', () => {
    assert.equal(jsonShapeExcess(nested(MAX_JSON_DEPTH)), undefined);
    assert.equal(jsonShapeExcess(nested(MAX_JSON_DEPTH + 1)), `is nested deeper than ${MAX_JSON_DEPTH} levels`);
    assert.equal(jsonShapeExcess('{"a":'.repeat(3) + '1' + '}'.repeat(3), 100, 3), undefined);
    assert.equal(jsonShapeExcess('{"a":'.repeat(4) + '1' + '}'.repeat(4), 100, 3), 'is nested deeper than 3 levels');
    assert.equal(jsonShapeExcess('{"a":[{"b":[1]}]}', 100, 4), undefined);
    assert.equal(jsonShapeExcess('{"a":[{"b":[[1]]}]}', 100, 4), 'is nested deeper than 4 levels');
  });

  it('depth is the nesting, not the number of brackets: many siblings at one level pass', () => {
    const siblings = `[${Array.from({ length: 500 }, () => '[{}]').join(',')}]`;
    assert.equal(jsonShapeExcess(siblings, 100, 3), undefined);
  });

  it('braces, brackets and colons inside strings are not counted', () => {
    const inString = JSON.stringify({ text: '{{{[[[:::]]]}}} a:b:c {"x":1}' });
    assert.equal(jsonShapeExcess(inString, 1, 1), undefined);
    assert.equal(jsonShapeExcess(JSON.stringify(['['.repeat(1000)]), 100, 1), undefined);
  });

  it('escaped quotes do not end a string; an escaped backslash before the quote does', () => {
    // "a\":{[" is one string: the quote is escaped, so what follows it is still inside
    assert.equal(jsonShapeExcess(JSON.stringify({ k: 'a":{[' }), 1, 1), undefined);
    // "a\\" ends at the quote after two backslashes: the object after it is counted
    const text = `{"k":"a\\\\","n":{"m":1}}`;
    assert.deepEqual(JSON.parse(text), { k: 'a\\', n: { m: 1 } });
    assert.equal(jsonShapeExcess(text, 3, 2), undefined);
    assert.equal(jsonShapeExcess(text, 2, 2), 'has more than 2 keys');
    assert.equal(jsonShapeExcess(text, 3, 1), 'is nested deeper than 1 levels');
    // three backslashes: an escaped backslash then an escaped quote, the string goes on
    assert.equal(jsonShapeExcess(JSON.stringify({ k: '\\"{{:' }), 1, 1), undefined);
  });

  it('a key with a colon in its name counts once', () => {
    assert.equal(jsonShapeExcess('{"a:b:c":1}', 1), undefined);
    assert.equal(jsonShapeExcess('{"a:b:c":1,"d":2}', 1), 'has more than 1 keys');
  });

  it('malformed JSON (an unterminated string) passes here: JSON.parse names it', () => {
    assert.equal(jsonShapeExcess('{"a": "never closed {{{{', 0, 0), 'is nested deeper than 0 levels');
    assert.equal(jsonShapeExcess('"never closed {{{{ :::', 0, 0), undefined);
    assert.equal(jsonShapeExcess(''), undefined);
  });
});

describe('json-bounds: checkJsonShape', () => {
  it('throws code 1 naming the field and what the body is called', () => {
    try {
      checkJsonShape(nested(MAX_JSON_DEPTH + 1), 'xmlData', 'the data');
      assert.fail('expected a refusal');
    } catch (e) {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.status, 1);
      assert.deepEqual(e.issues, [{ code: 1, field: 'xmlData', text: `the data is nested deeper than ${MAX_JSON_DEPTH} levels` }]);
    }
    assert.throws(() => checkJsonShape(objectWithKeys(MAX_JSON_KEYS + 1), 'body'), (e: ValidationError) => e.issues[0]!.text === `the body has more than ${MAX_JSON_KEYS} keys`);
  });

  it('a body within the bounds passes', () => {
    assert.doesNotThrow(() => checkJsonShape(JSON.stringify({ data: [{ type: 'send', attributes: { a: '{:}' } }] }), 'body'));
  });
});
