// Multipart reading rules of the REST intake that need no server: the boundary the body uses, and how parts are named.
import assert from 'node:assert/strict';
import { effectiveBoundary, partName, partPointer } from '../../src/adapters/rest/multipart.js';

describe('REST multipart rules', () => {
  it('the RFC form: delimiter lines are -- + the boundary parameter', () => {
    assert.equal(effectiveBoundary('abc', Buffer.from('--abc\r\nContent-Disposition: form-data; name="message"')), 'abc');
    assert.equal(effectiveBoundary('--abc', Buffer.from('----abc\r\n')), '--abc');
  });

  it('the Hammy page form: delimiter lines equal to a parameter that starts with --', () => {
    const b = '-----------------------------974767299852498929531610575';
    assert.equal(effectiveBoundary(b, Buffer.from(`${b}\r\nContent-Disposition: form-data`)), b.slice(2));
    assert.equal(effectiveBoundary(b, Buffer.from(`${b}--`)), b.slice(2), 'an empty body with only the close delimiter');
  });

  it('anything else is left to the parser to refuse', () => {
    assert.equal(effectiveBoundary('abc', Buffer.from('abc\r\n')), 'abc', 'no -- to take from the parameter');
    assert.equal(effectiveBoundary('--abc', Buffer.from('--abcdef\r\n')), '--abc', 'a longer line is not the delimiter');
    assert.equal(effectiveBoundary('--abc', Buffer.alloc(0)), '--abc');
  });

  it('a part is named by Content-Disposition name, else by its Content-ID without brackets', () => {
    assert.equal(partName({ 'content-id': '<x@y>' }, 'message'), 'message');
    assert.equal(partName({ 'content-id': '<kep@hammy>' }, null), 'kep@hammy');
    assert.equal(partName({ 'content-id': 'plain-id' }, null), 'plain-id');
    assert.equal(partName({}, null), undefined);
  });

  it('part pointers escape ~ and / as RFC 6901 says', () => {
    assert.equal(partPointer('a/b~c'), '/parts/a~1b~0c');
    assert.equal(partPointer(), '/parts');
  });
});
