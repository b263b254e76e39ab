import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { deflateBlock } from './deflate-pool.js';

/** Input cut at every BLOCK bytes from the start of the stream: the cut points are the output. */
export const BLOCK = 512 * 1024;
/** Blocks of one stream being compressed at once. */
const STREAM_IN_FLIGHT = 2;
/** ID1 ID2, CM=deflate, no flags, MTIME 0, XFL 0, OS 3 (Unix): the header Node's gzip writes. */
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
/** An empty final block (BFINAL=1, fixed codes, end-of-block): after the sync-flushed blocks, it ends the stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);
/** Input buffers of finished blocks, kept for the next ones: dropped ones lived long enough to need a full GC. */
const spare: Buffer[] = [];
const SPARE_MAX = 8;

interface Pending {
  input: Buffer;
  output: Promise<Buffer>;
}

/**
 * gzip (RFC 1952) made the way `pigz -i` makes it: the input is cut into blocks of BLOCK bytes,
 * each deflated on its own and ended with a sync flush, so the pieces and an empty final block
 * concatenate into one valid deflate stream (deflate-pool.ts). The blocks of a stream compress on
 * the thread pool at once. One zlib stream per layer kept a pool thread idle while this thread
 * took each chunk's output and gave it the next input, and a layer much larger than the rest
 * compressed on one core alone at the end of a build (the generated 1.1 GB image: 27-30 s with
 * one stream per layer, 22-29 s so; corpus `updated`: 0.4% larger than one zlib stream).
 *
 * The output depends only on the bytes and the level, not on timing or the number of cores: cut
 * points are fixed offsets and the pieces are written in order.
 */
export class BlockGzip extends Transform {
  private block: Buffer = spare.pop() ?? Buffer.allocUnsafeSlow(BLOCK);
  private filled = 0;
  private crc = 0;
  private size = 0;
  private readonly queue: Pending[] = [];

  constructor(private readonly level: number) {
    super();
    this.push(HEADER);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.gather(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.finish().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    // Blocks still compressing give their deflaters back when they end; their buffers are dropped.
    this.queue.length = 0;
    cb(err);
  }

  private async gather(chunk: Buffer): Promise<void> {
    for (let off = 0; off < chunk.length; ) {
      const n = chunk.copy(this.block, this.filled, off);
      this.filled += n;
      off += n;
      if (this.filled === BLOCK) await this.startBlock();
    }
  }

  private async finish(): Promise<void> {
    if (this.filled > 0) await this.startBlock();
    while (this.queue.length > 0) await this.emitOldest();
    const trailer = Buffer.allocUnsafe(10);
    FINAL_BLOCK.copy(trailer, 0);
    trailer.writeUInt32LE(this.crc >>> 0, 2);
    trailer.writeUInt32LE(this.size % 2 ** 32, 6);
    this.push(trailer);
  }

  /** Compress the block filled so far; first wait while this stream has enough going. */
  private async startBlock(): Promise<void> {
    while (this.queue.length >= STREAM_IN_FLIGHT) await this.emitOldest();
    const input = this.block;
    const data = input.subarray(0, this.filled);
    this.crc = zlib.crc32(data, this.crc);
    this.size += data.length;
    const output = deflateBlock(data, this.level);
    // Awaited in order by emitOldest; a failure further back must not go unhandled meanwhile.
    output.catch(() => {});
    this.queue.push({ input, output });
    this.block = spare.pop() ?? Buffer.allocUnsafeSlow(BLOCK);
    this.filled = 0;
  }

  private async emitOldest(): Promise<void> {
    const oldest = this.queue.shift()!;
    this.push(await oldest.output);
    if (spare.length < SPARE_MAX) spare.push(oldest.input);
  }
}
