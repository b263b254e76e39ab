import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IndexedLayer, IndexEntry } from '../../src/analyze/index-schema.js';
import { LayerCache } from '../../src/analyze/layer-cache.js';

/** A layer of one file whose kept content is `bytes` long: it weighs about that. */
function layer(digest: string, bytes: number): IndexedLayer {
  const entry = {
    seq: 0,
    path: 'f',
    type: 'file',
    xattrValues: [],
    content: Buffer.alloc(bytes),
  } as unknown as IndexEntry;
  const facts = {
    layerDigest: digest,
    diffId: digest,
    compressedSize: 0,
    mediaType: '',
    contentBytes: 0,
    tarBytes: 0,
    entries: 1,
  };
  return { facts, entries: [entry] };
}

describe('LayerCache', () => {
  it('keeps layers up to its budget and lets the least recently used go first', () => {
    const cache = new LayerCache(25_000);
    const [a, b, c] = [layer('a', 10_000), layer('b', 10_000), layer('c', 10_000)];
    cache.put(a);
    cache.put(b);
    assert.equal(cache.get('a'), a, 'the same rows, not a copy');
    cache.put(c);
    assert.equal(cache.get('b'), undefined, 'b was used least recently');
    assert.equal(cache.get('a'), a);
    assert.equal(cache.get('c'), c);
  });

  it('does not keep a layer heavier than the whole budget', () => {
    const cache = new LayerCache(5_000);
    cache.put(layer('big', 10_000));
    assert.equal(cache.get('big'), undefined);
  });
});
