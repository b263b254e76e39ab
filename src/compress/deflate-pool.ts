import { promisify } from 'node:util';
import zlib from 'node:zlib';

/**
 * Blocks deflating at once, over every stream: one more than libuv's pool has threads (4 unless
 * UV_THREADPOOL_SIZE says otherwise, which is how a many-core machine uses its cores), so a thread
 * never waits for the next block; more would only queue, each holding a deflate state (~270 KiB)
 * and its block.
 */
const DEFLATERS = (Number(process.env.UV_THREADPOOL_SIZE) || 4) + 1;

let running = 0;
const waiting: (() => void)[] = [];

/**
 * `block` deflated on its own (no dictionary) and ended with a sync flush, so that it ends on a
 * byte boundary and the next block's deflate output can follow it in the same stream.
 *
 * Each block gets a deflater of its own (closed when it is done) whose output buffer holds all of
 * its output. zlib writes a second, empty stored block when a sync flush fills the output buffer
 * exactly (its manual asks for more than six bytes of room), and a Node zlib stream's buffer
 * carries over from one write to the next: deflaters reused across blocks made a block's bytes
 * depend on which blocks the same deflater had compressed before, that is on timing (one corpus
 * layer came out 5 bytes longer in one build of several). A fresh deflater per 512 KiB block
 * measured as fast as a reused one (7.0-7.9 ms against 6.9-7.3 ms) and lower in RSS (62-67 MB
 * against 85 MB over 2,000 blocks). The pool's first version also made one per block, and V8
 * counted up to 60 MB of external memory at the peak of the generated 1.1 GB build, which peaked
 * at 192 MiB RSS against 176 MiB with reused deflaters; with this version it peaked at 183 MiB
 * (BENCHMARKS.md). No dictionary is primed (the 32 KiB before the block), which costs about 0.4 %
 * of size.
 */
export async function deflateBlock(block: Buffer, level: number): Promise<Buffer> {
  await acquire();
  try {
    // deflateBound plus the flush marker, with room to spare: the buffer can never fill.
    const room = Math.max(block.length + (block.length >> 3) + 64, zlib.constants.Z_MIN_CHUNK);
    const out = await deflateRaw(block, { level, chunkSize: room, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    if (out.length >= room)
      throw new Error(`deflate: ${out.length} bytes out of a ${block.length}-byte block filled its buffer`);
    // The output is a view of the whole buffer: a copy of its own lets the rest go while it waits to be written.
    return out.length < room / 2 ? Buffer.from(out) : out;
  } finally {
    release();
  }
}

const deflateRaw = promisify(zlib.deflateRaw);

async function acquire(): Promise<void> {
  if (running < DEFLATERS) running++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
}

/** The slot passes straight to a waiter, so that no caller arriving meanwhile takes it too. */
function release(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}
