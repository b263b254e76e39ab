import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/**
 * A file written in batches of at least `batch` bytes, each one writev of the chunks as they
 * came (no copy). A blob pulled from a registry arrives in the socket's 16-64 KiB reads; written
 * one by one, as fs.createWriteStream does, they cost thousands of hand-offs to libuv's thread
 * pool, which on a small machine took more of the main thread than the download itself.
 *
 * The file is created (or truncated) when the stream is constructed and closed when it finishes
 * or is destroyed; what it holds after an error is unspecified (write to a temporary name).
 */
export class BatchedFileWriter extends Writable {
  private handle?: FileHandle;
  private pending: Buffer[] = [];
  private held = 0;

  constructor(
    readonly path: string,
    private readonly batch = 1024 * 1024,
  ) {
    super({ highWaterMark: batch });
  }

  override _construct(cb: (err?: Error | null) => void): void {
    fs.open(this.path, 'w').then(
      (h) => {
        this.handle = h;
        cb();
      },
      (err: Error) => cb(err),
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.pending.push(chunk);
    this.held += chunk.length;
    if (this.held < this.batch) {
      cb();
      return;
    }
    this.flushPending().then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.flushPending()
      .then(() => this.handle!.close())
      .then(
        () => {
          this.handle = undefined;
          cb();
        },
        (err: Error) => cb(err),
      );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const h = this.handle;
    this.handle = undefined;
    this.pending = [];
    if (!h) {
      cb(err);
      return;
    }
    h.close().then(
      () => cb(err),
      () => cb(err),
    );
  }

  /** Write what is held, however many writev calls it takes (a short write is continued). */
  private async flushPending(): Promise<void> {
    let bufs = this.pending;
    this.pending = [];
    this.held = 0;
    while (bufs.length > 0) {
      const { bytesWritten } = await this.handle!.writev(bufs);
      if (bytesWritten === 0) throw new Error(`${this.path}: the write made no progress`);
      let n = bytesWritten;
      let i = 0;
      while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
      bufs = bufs.slice(i);
      if (n > 0) bufs[0] = bufs[0]!.subarray(n);
    }
  }
}
