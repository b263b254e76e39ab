import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const deflateRaw = promisify(zlib.deflateRaw);

/** Input cut at every BLOCK bytes from the start of the stream: the cut points are the output. */
export const BLOCK = 512 * 1024;
/** Blocks of one stream being compressed at once. */
const STREAM_IN_FLIGHT = 2;
/**
 * Blocks of all streams being compressed at once: libuv's pool has 4 threads, and each block in
 * flight holds its input, its output and a deflate state (~1 MiB), so more would only wait there.
 */
const ALL_IN_FLIGHT = 5;
/** What deflate can refer back to: the last 32 KiB of the block before primes the next. */
const WINDOW = 32 * 1024;
/** ID1 ID2, CM=deflate, no flags, MTIME 0, XFL 0, OS 3 (Unix): the header Node's gzip writes. */
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

let inFlight = 0;
const waiting: (() => void)[] = [];
/** Input buffers of finished blocks, kept for the next ones (garbage buffers cost full GCs). */
const spare: Buffer[] = [];

async function slot(): Promise<void> {
  if (inFlight < ALL_IN_FLIGHT) inFlight++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
}

function freeSlot(): void {
  const next = waiting.shift();
  if (next) next();
  else inFlight--;
}

interface Pending {
  input: Buffer;
  output: Promise<Buffer>;
}

/**
 * gzip (RFC 1952) made the way pigz makes it: the input is cut into blocks of BLOCK bytes, each
 * compressed by its own deflate primed with the 32 KiB before it and ended with a sync flush (the
 * last one with a final block), so the pieces concatenate into one valid deflate stream. The
 * blocks of a stream compress on the thread pool at once. One zlib stream per layer kept a pool
 * thread idle while this thread took each chunk's output and gave it the next input, and a layer
 * much larger than the rest compressed on one core alone at the end of a build.
 *
 * The output depends only on the bytes and the level, not on timing or the number of cores: cut
 * points are fixed offsets and the pieces are written in order.
 */
export class BlockGzip extends Transform {
  private block: Buffer = spare.pop() ?? Buffer.allocUnsafeSlow(BLOCK);
  private filled = 0;
  private crc = 0;
  private size = 0;
  private previous: Buffer | undefined;
  private readonly queue: Pending[] = [];
  private started = false;

  constructor(private readonly level: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.gather(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.finish().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    // Blocks still compressing give back their slots when they end; their buffers are dropped.
    this.queue.length = 0;
    cb(err);
  }

  private async gather(chunk: Buffer): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.push(HEADER);
    }
    for (let off = 0; off < chunk.length; ) {
      const n = chunk.copy(this.block, this.filled, off);
      this.filled += n;
      off += n;
      if (this.filled === BLOCK) await this.startBlock(false);
    }
  }

  private async finish(): Promise<void> {
    if (!this.started) this.push(HEADER);
    await this.startBlock(true);
    while (this.queue.length > 0) await this.emitOldest();
    const trailer = Buffer.allocUnsafe(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size % 2 ** 32, 4);
    this.push(trailer);
  }

  /** Compress the block filled so far; first wait while this stream or all have enough going. */
  private async startBlock(last: boolean): Promise<void> {
    while (this.queue.length >= STREAM_IN_FLIGHT) await this.emitOldest();
    await slot();
    const input = this.block;
    const data = input.subarray(0, this.filled);
    this.crc = zlib.crc32(data, this.crc);
    this.size += data.length;
    const opts: zlib.ZlibOptions = {
      level: this.level,
      finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      // Most blocks compress to well under half; one that does not takes a second output chunk.
      chunkSize: BLOCK / 2,
      // zlib copies the dictionary when the stream is made: the previous block may be reused after.
      ...(this.previous ? { dictionary: this.previous.subarray(BLOCK - WINDOW) } : {}),
    };
    const output = deflateRaw(data, opts).finally(freeSlot);
    // Awaited in order by emitOldest; a failure further back must not go unhandled meanwhile.
    output.catch(() => {});
    this.queue.push({ input, output });
    this.previous = input;
    this.block = last ? input : (spare.pop() ?? Buffer.allocUnsafeSlow(BLOCK));
    this.filled = 0;
  }

  private async emitOldest(): Promise<void> {
    const oldest = this.queue.shift()!;
    this.push(await oldest.output);
    // Still the dictionary of the block after it only until that block has started.
    if (oldest.input !== this.previous && spare.length < ALL_IN_FLIGHT + 2) spare.push(oldest.input);
  }
}
