import zlib from 'node:zlib';

/**
 * Raw deflaters at work at once, over every stream: one more than libuv's pool has threads (4
 * unless UV_THREADPOOL_SIZE says otherwise, which is how a many-core machine uses its cores), so
 * a thread never waits for the next block; more would only queue, each holding a deflate state
 * (~270 KiB) and its block.
 */
const DEFLATERS = (Number(process.env.UV_THREADPOOL_SIZE) || 4) + 1;

/** One raw deflate stream, reset between blocks and kept for the next. */
interface Deflater {
  level: number;
  engine: zlib.DeflateRaw;
  /** The current block's output, in zlib's own chunks. */
  out: Buffer[];
}

const idle: Deflater[] = [];
let made = 0;
const waiting: ((d: Deflater | undefined) => void)[] = [];

/**
 * `block` deflated on its own (no dictionary) and ended with a sync flush, so that it ends on a
 * byte boundary and the next block's deflate output can follow it in the same stream.
 *
 * A deflater per block was tried first (zlib.deflateRaw, primed with the 32 KiB before it):
 * each one's native state stayed counted as V8 external memory until its handle was collected
 * (some 60 MB at the peak of the generated 1.1 GB build, against 20 MB with reused ones). Reused
 * deflaters have no dictionary to prime (Node sets one only when a stream is made), which costs
 * about 0.4 % of size at 512 KiB blocks.
 */
export async function deflateBlock(block: Buffer, level: number): Promise<Buffer[]> {
  const d = await acquire(level);
  try {
    d.engine.reset();
    d.out = [];
    await new Promise<void>((resolve, reject) => {
      d.engine.once('error', reject);
      d.engine.write(block);
      d.engine.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        d.engine.off('error', reject);
        resolve();
      });
    });
    return d.out;
  } catch (e) {
    // A deflater that failed is not reused; a waiter may make one in its place.
    d.engine.destroy();
    made--;
    waiting.shift()?.(undefined);
    throw e;
  } finally {
    if (!d.engine.destroyed) release(d);
  }
}

async function acquire(level: number): Promise<Deflater> {
  const i = idle.findIndex((d) => d.level === level);
  if (i >= 0) return idle.splice(i, 1)[0]!;
  if (made < DEFLATERS) return make(level);
  const other = idle.pop() ?? (await new Promise<Deflater | undefined>((resolve) => waiting.push(resolve)));
  if (other?.level === level) return other;
  // One made for another level (or none, when one failed) gives its place to one at this level.
  if (other) {
    other.engine.destroy();
    made--;
  }
  return make(level);
}

function make(level: number): Deflater {
  made++;
  const d: Deflater = { level, engine: zlib.createDeflateRaw({ level, chunkSize: 256 * 1024 }), out: [] };
  d.engine.on('data', (chunk: Buffer) => d.out.push(chunk));
  return d;
}

function release(d: Deflater): void {
  const next = waiting.shift();
  if (next) next(d);
  else idle.push(d);
}
