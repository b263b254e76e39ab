import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ContentStore } from '../../src/graph/content-store.js';

const MiB = 1024 * 1024;

/** Deterministic bytes: n of them, from a seed. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function* chunked(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let o = 0; o < b.length; o += size) yield b.subarray(o, o + size);
}

async function withStore(fn: (s: ContentStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'content-store-'));
  const store = await ContentStore.create(dir);
  try {
    await fn(store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('ContentStore', () => {
  it('gives every content back as stored, across the background writes of its buffers', async () => {
    await withStore(async (store) => {
      // Sizes chosen to straddle the 4 MiB write buffers, a content bigger than one, and small files.
      const sizes = [1, 700, 3 * MiB, 2 * MiB + 5, 0, 9 * MiB, 300 * 1024, 17, 5 * MiB];
      const contents = sizes.map((n, i) => bytes(n, i + 1));
      const refs = [];
      for (const [i, c] of contents.entries()) refs.push(await store.put(chunked(c, 256 * 1024), c.length, `f${i}`));
      await store.flush();
      for (const [i, c] of contents.entries()) {
        assert.equal(store.contents.sha256(refs[i]!), createHash('sha256').update(c).digest('hex'));
        assert.ok((await store.readAll(refs[i]!)).equals(c), `content ${i} (${c.length} bytes) reads back`);
        const parts: Buffer[] = [];
        for await (const p of store.read(refs[i]!)) parts.push(p);
        assert.ok(Buffer.concat(parts).equals(c), `content ${i} streams back`);
      }
      assert.equal(
        store.bytesStored,
        sizes.reduce((a, b) => a + b, 0),
      );
    });
  });

  it('stores a content seen again once, also when its second copy spans a write already started', async () => {
    await withStore(async (store) => {
      const big = bytes(6 * MiB, 7);
      const small = bytes(1000, 8);
      const a = await store.put(chunked(big, 256 * 1024), big.length, 'a');
      const b = await store.put(chunked(small, 512), small.length, 'b');
      // The duplicate fills one buffer (its write starts) and is then rewound over.
      const again = await store.put(chunked(big, 256 * 1024), big.length, 'a again');
      const after = bytes(5 * MiB, 9);
      const c = await store.put(chunked(after, 256 * 1024), after.length, 'c');
      assert.deepEqual(again, a);
      const at = (id: number) => store.contents.offset(id);
      assert.equal(at(c), at(b) + store.contents.size(b), 'the next content takes the place of the forgotten copy');
      assert.equal(store.distinctCount, 3);
      assert.ok((await store.readAll(a)).equals(big));
      assert.ok((await store.readAll(b)).equals(small));
      assert.ok((await store.readAll(c)).equals(after));
    });
  });

  it('refuses a body of another length than its header says', async () => {
    await withStore(async (store) => {
      await assert.rejects(store.put(chunked(bytes(10, 1), 4), 11, 'x'), /BAD_TAR|body is 10 bytes, header says 11/);
    });
  });
});
