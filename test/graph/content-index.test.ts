import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ContentIndex } from '../../src/graph/content-index.js';

const digestOf = (i: number) => createHash('sha256').update(String(i)).digest();

test('finds every content added, by its digest, with its size and offset, across growth', () => {
  const index = new ContentIndex();
  const n = 20_000;
  for (let i = 0; i < n; i++) assert.equal(index.add(digestOf(i), i * 3, 2 ** 33 + i), i);
  assert.equal(index.count, n);
  for (let i = 0; i < n; i++) {
    const id = index.find(digestOf(i));
    assert.equal(id, i);
    assert.equal(index.sha256(id!), digestOf(i).toString('hex'));
    assert.equal(index.size(id!), i * 3);
    assert.equal(index.offset(id!), 2 ** 33 + i);
  }
  assert.equal(index.find(digestOf(n)), undefined);
});

test('tells apart digests that share the bytes the table hashes on', () => {
  const index = new ContentIndex();
  // The same first 4 bytes: every one of these lands on the same slot and probes on.
  const same = Array.from({ length: 50 }, (_, i) => {
    const d = digestOf(i);
    d.writeUInt32LE(0xdeadbeef, 0);
    return d;
  });
  for (const [i, d] of same.entries()) index.add(d, i, 0);
  for (const [i, d] of same.entries()) assert.equal(index.find(d), i);
  const other = Buffer.from(same[0]!);
  other[31] ^= 1;
  assert.equal(index.find(other), undefined);
});

test('refuses a digest twice or of the wrong length', () => {
  const index = new ContentIndex();
  index.add(digestOf(1), 1, 0);
  assert.throws(() => index.add(digestOf(1), 1, 0), /twice/);
  assert.throws(() => index.add(Buffer.alloc(20), 1, 0), /20 bytes/);
});
