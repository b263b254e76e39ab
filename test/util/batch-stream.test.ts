import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { BatchStream } from '../../src/util/batch-stream.js';

/** The chunks as the stream emits them ('data' events: an async iterator would join what is buffered). */
function collect(chunks: Buffer[], size: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const batch = Readable.from(chunks).pipe(new BatchStream(size));
    batch.on('data', (c: Buffer) => out.push(c));
    batch.on('end', () => resolve(out));
    batch.on('error', reject);
  });
}

describe('BatchStream', () => {
  it('joins small chunks into chunks of at least `size`, the rest at the end, bytes unchanged', async () => {
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(300, i));
    const out = await collect(chunks, 1000);
    assert.deepEqual(out.map((c) => c.length), [1200, 1200, 600]);
    assert.ok(Buffer.concat(out).equals(Buffer.concat(chunks)));
  });

  it('passes a chunk that is already large enough through as it is', async () => {
    const big = Buffer.alloc(5000, 1);
    const out = await collect([big, Buffer.alloc(10, 2)], 1000);
    assert.equal(out[0], big);
    assert.deepEqual(out.map((c) => c.length), [5000, 10]);
  });

  it('ends empty on an empty input', async () => {
    assert.deepEqual(await collect([], 1000), []);
  });
});
