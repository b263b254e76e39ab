/**
 * The bytes pulled from a source but not yet consumed, kept as the source's own chunks: reads
 * that fall inside one chunk are zero-copy subarrays, and only a header straddling two chunks is
 * copied. Memory is bounded by what the caller asks to have available at once.
 *
 * Subarrays handed out share memory with the source's chunks, so a source must not reuse a
 * buffer after yielding it (Node streams, zlib and fs.createReadStream never do).
 */
export class ByteQueue {
  /** Bytes available without pulling. */
  avail = 0;
  /** Offset in the whole stream of the next byte to consume. */
  pos = 0;
  private chunks: Buffer[] = [];
  private head = 0;
  private off = 0;
  private ended = false;
  private readonly scratch = Buffer.allocUnsafe(512);

  constructor(private readonly it: AsyncIterator<Buffer | Uint8Array>) {}

  get atEnd(): boolean {
    return this.ended && this.avail === 0;
  }

  /** Pull one more non-empty chunk; false at the end of the source. */
  async pull(): Promise<boolean> {
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      const v = r.value;
      if (v.length === 0) continue;
      if (this.head === this.chunks.length) {
        this.chunks.length = 0;
        this.head = 0;
      } else if (this.head > 64) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
      this.chunks.push(Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      this.avail += v.length;
      return true;
    }
    return false;
  }

  /** Make n bytes available; false if the source ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.avail < n) if (!(await this.pull())) return false;
    return true;
  }

  /**
   * n available bytes (n <= avail) as [buffer, offset], without consuming them. Copies only when
   * they straddle chunks; a copy of <= 512 bytes lives in a scratch buffer valid until the next
   * call.
   */
  peek(n: number): [Buffer, number] {
    const first = this.chunks[this.head]!;
    if (first.length - this.off >= n) return [first, this.off];
    const out = n <= this.scratch.length ? this.scratch : Buffer.allocUnsafe(n);
    let filled = 0;
    let off = this.off;
    for (let i = this.head; filled < n; i++) {
      const c = this.chunks[i]!;
      const k = Math.min(n - filled, c.length - off);
      c.copy(out, filled, off, off + k);
      filled += k;
      off = 0;
    }
    return [out, 0];
  }

  /** Drop n available bytes (n <= avail). */
  consume(n: number): void {
    this.avail -= n;
    this.pos += n;
    while (n > 0) {
      const c = this.chunks[this.head]!;
      const left = c.length - this.off;
      if (n < left) {
        this.off += n;
        return;
      }
      n -= left;
      this.chunks[this.head++] = EMPTY; // let the chunk be collected
      this.off = 0;
    }
  }

  /** Up to max available bytes from the front, zero-copy (avail must be > 0). */
  takeSome(max: number): Buffer {
    const c = this.chunks[this.head]!;
    const len = Math.min(max, c.length - this.off);
    const out = c.subarray(this.off, this.off + len);
    this.consume(len);
    return out;
  }

  /** Drop n bytes, pulling as needed; false if the source ends first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      if (this.avail === 0 && !(await this.pull())) return false;
      const k = Math.min(n, this.avail);
      this.consume(k);
      n -= k;
    }
    return true;
  }

  /** Read the source to its end, discarding it (so that whoever hashes the stream sees it all). */
  async drain(): Promise<void> {
    this.consume(this.avail);
    while (await this.pull()) this.consume(this.avail);
  }

  /** Tell the source we stop early. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.it.return?.();
  }
}

const EMPTY = Buffer.alloc(0);
