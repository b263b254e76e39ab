import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { deflateBlock } from '../../src/compress/deflate-pool.js';

/**
 * zlib's manual: after a Z_SYNC_FLUSH, "make sure that avail_out is greater than six to avoid
 * repeated flush markers due to avail_out == 0 on return". A Node zlib stream does not: its output
 * buffer carries over from one write to the next, so a stream that is reused for many blocks ends
 * a block's flush at the buffer's end whenever the earlier blocks' output happened to leave just
 * that much room, and zlib then writes a second, empty stored block (5 bytes). The gzip stays valid
 * but its bytes depend on which blocks the deflater compressed before: the corpus test saw one
 * layer come out 5 bytes longer in one build of several.
 */
const SYNC = zlib.constants.Z_SYNC_FLUSH;

/** Deterministic, somewhat compressible text. */
function text(bytes: number, seed: number): Buffer {
  const lines: string[] = [];
  let x = seed;
  let size = 0;
  while (size < bytes) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const line = `${x.toString(36)} usr/lib/x86_64-linux-gnu/lib${(x % 977).toString(16)}.so.${x % 7}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** Incompressible bytes, whose deflated size grows with their length about one for one. */
function noise(bytes: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  let x = 987654321;
  for (let i = 0; i < bytes; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    b[i] = x & 0xff;
  }
  return b;
}

const deflatedSize = (b: Buffer) => zlib.deflateRawSync(b, { level: 6, finishFlush: SYNC, chunkSize: 1 << 20 }).length;

/** A prefix of `pool` whose deflated size is exactly `target`, when one exists near it. */
function blockDeflatingTo(pool: Buffer, target: number): Buffer | undefined {
  let lo = 1;
  let hi = pool.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (deflatedSize(pool.subarray(0, mid)) < target) lo = mid + 1;
    else hi = mid;
  }
  for (let n = Math.max(1, lo - 8); n <= Math.min(pool.length, lo + 8); n++)
    if (deflatedSize(pool.subarray(0, n)) === target) return pool.subarray(0, n);
  return undefined;
}

describe('deflateBlock', () => {
  it("zlib repeats the flush marker when a sync flush ends at the output buffer's end (the premise)", () => {
    const block = text(100_000, 7);
    const size = deflatedSize(block);
    const tight = zlib.deflateRawSync(block, { level: 6, finishFlush: SYNC, chunkSize: size });
    assert.equal(tight.length, size + 5);
    assert.deepEqual([...tight.subarray(-9)], [0, 0, 0xff, 0xff, 0, 0, 0, 0xff, 0xff]);
  });

  it('gives the same bytes for a block whatever the deflaters compressed before it', async () => {
    const block = text(100_000, 7);
    const reference = await deflateBlock(block, 6);
    assert.equal(reference.length, deflatedSize(block));
    assert.deepEqual(zlib.inflateRawSync(reference, { finishFlush: SYNC }), block);

    // A pool that reuses its deflaters gives calls made one after another the same one, and what
    // it wrote so far decides where its output buffer ends. Lead-in blocks move that end to just
    // before, at and just after the end of this block's output, for the 256 KiB buffers the pool
    // once reused (that version failed here: 5 bytes more with slack -5).
    const BUFFER = 256 * 1024;
    const pool = noise(BUFFER);
    let written = reference.length;
    let tried = 0;
    for (let slack = -6; slack <= 6; slack++) {
      const wanted = (((BUFFER - reference.length - slack - written) % BUFFER) + BUFFER) % BUFFER;
      const lead = blockDeflatingTo(pool, wanted < 64 ? wanted + BUFFER : wanted);
      if (!lead) continue;
      tried++;
      written += (await deflateBlock(lead, 6)).length;
      const again = await deflateBlock(block, 6);
      written += again.length;
      assert.equal(again.length, reference.length, `${again.length - reference.length} bytes more with slack ${slack}`);
      assert.ok(again.equals(reference), `different bytes with slack ${slack}`);
    }
    // Noise deflates to about one byte per byte, so nearly every lead-in size exists.
    assert.ok(tried >= 10, `only ${tried} of 13 lead-in sizes could be made`);
  });
});
