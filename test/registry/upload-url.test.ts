import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withDigest } from '../../src/registry/upload.js';

describe('upload Location handling', () => {
  const d = 'sha256:' + 'e'.repeat(64);
  it('appends digest= with ? or & and keeps the existing query byte for byte', () => {
    assert.equal(
      withDigest(new URL('http://r:5000/v2/a/blobs/uploads/u1'), d).href,
      `http://r:5000/v2/a/blobs/uploads/u1?digest=sha256%3A${'e'.repeat(64)}`,
    );
    assert.equal(
      withDigest(new URL('http://r/v2/a/blobs/uploads/u1?_state=ab%2Bc%3D%3D'), d).href,
      `http://r/v2/a/blobs/uploads/u1?_state=ab%2Bc%3D%3D&digest=sha256%3A${'e'.repeat(64)}`,
    );
    assert.equal(withDigest(new URL('http://r/u?'), d).search, `?digest=sha256%3A${'e'.repeat(64)}`);
  });
  it('resolves relative Locations against the request URL', () => {
    const req = new URL('https://reg.example:5000/v2/a/b/blobs/uploads/');
    assert.equal(
      new URL('/v2/a/b/blobs/uploads/x?_state=1', req).href,
      'https://reg.example:5000/v2/a/b/blobs/uploads/x?_state=1',
    );
    assert.equal(new URL('x?_state=1', req).href, 'https://reg.example:5000/v2/a/b/blobs/uploads/x?_state=1');
  });
});
