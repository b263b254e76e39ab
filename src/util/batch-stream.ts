import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes on in chunks of at least `size` bytes (the last one may be shorter), so that a
 * file written from a socket's 16-64 KiB reads takes a few large writes instead of thousands of
 * small ones, each a round trip to libuv's thread pool. A chunk already that large goes through
 * as it is, without a copy.
 */
export class BatchStream extends Transform {
  private parts: Buffer[] = [];
  private held = 0;

  constructor(private readonly size: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.held === 0 && chunk.length >= this.size) {
      cb(null, chunk);
      return;
    }
    this.parts.push(chunk);
    this.held += chunk.length;
    if (this.held >= this.size) cb(null, this.joined());
    else cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.held > 0) this.push(this.joined());
    cb();
  }

  private joined(): Buffer {
    const out = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.held);
    this.parts = [];
    this.held = 0;
    return out;
  }
}
