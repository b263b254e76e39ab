import { createHash } from 'node:crypto';
import { promises as fs, type PathLike } from 'node:fs';
import path from 'node:path';
import { RechunkerError } from '../errors.js';

/** Where one distinct content lives in the pack file. sha256 is its identity. */
export interface ContentRef {
  /** sha256 of the content, lowercase hex (no prefix). */
  readonly sha256: string;
  readonly offset: number;
  readonly size: number;
}

const WRITE_BUFFER = 8 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

/**
 * Every distinct file content of an image, stored once, appended to one pack file on disk.
 * One file instead of a file per content: an OS image has ~100,000 small files and a syscall
 * storm per file costs more than the data. A content seen again is rewound over, so the pack
 * holds each content once; memory is one small record per distinct content.
 */
export class ContentStore {
  private readonly byDigest = new Map<string, ContentRef>();
  private readonly buffer = Buffer.allocUnsafe(WRITE_BUFFER);
  private buffered = 0;
  /** File offset of buffer[0]. */
  private flushedTo = 0;
  bytesStored = 0;

  private constructor(
    readonly file: string,
    private readonly handle: fs.FileHandle,
  ) {}

  static async create(dir: string): Promise<ContentStore> {
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'contents.pack');
    return new ContentStore(file, await fs.open(file, 'w+'));
  }

  get distinctCount(): number {
    return this.byDigest.size;
  }

  /** Store a body of exactly `size` bytes; returns the one ref for its content. */
  async put(body: AsyncIterable<Buffer>, size: number, where: string): Promise<ContentRef> {
    const start = this.flushedTo + this.buffered;
    const hash = createHash('sha256');
    let seen = 0;
    for await (const chunk of body) {
      hash.update(chunk);
      seen += chunk.length;
      await this.append(chunk);
    }
    if (seen !== size) throw new RechunkerError('BAD_TAR', `${where}: body is ${seen} bytes, header says ${size}`);
    const sha256 = hash.digest('hex');
    const known = this.byDigest.get(sha256);
    if (known) {
      this.rewind(start);
      return known;
    }
    const ref: ContentRef = { sha256, offset: start, size };
    this.byDigest.set(sha256, ref);
    this.bytesStored += size;
    return ref;
  }

  private async append(chunk: Buffer): Promise<void> {
    if (this.buffered + chunk.length > WRITE_BUFFER) await this.flush();
    if (chunk.length > WRITE_BUFFER) {
      await this.writeAll(chunk, chunk.length);
      this.flushedTo += chunk.length;
      return;
    }
    chunk.copy(this.buffer, this.buffered);
    this.buffered += chunk.length;
  }

  /** Forget bytes written since `offset` (a duplicate): later writes overwrite them. */
  private rewind(offset: number): void {
    if (offset >= this.flushedTo) {
      this.buffered = offset - this.flushedTo;
    } else {
      this.flushedTo = offset;
      this.buffered = 0;
    }
  }

  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    await this.writeAll(this.buffer, this.buffered);
    this.flushedTo += this.buffered;
    this.buffered = 0;
  }

  /** A write may take fewer bytes than given (a filesystem filling up); the next one says why (ENOSPC). */
  private async writeAll(buf: Buffer, length: number): Promise<void> {
    for (let done = 0; done < length; ) {
      const { bytesWritten } = await this.handle.write(buf, done, length - done, this.flushedTo + done);
      if (bytesWritten === 0) throw new RechunkerError('IO', `${this.file}: the filesystem took no more bytes`);
      done += bytesWritten;
    }
  }

  /** The content in chunks of at most 1 MiB, read with positioned reads (safe in parallel). */
  async *read(ref: ContentRef): AsyncGenerator<Buffer> {
    if (this.buffered > 0) await this.flush();
    let pos = ref.offset;
    const end = ref.offset + ref.size;
    while (pos < end) {
      const n = Math.min(READ_CHUNK, end - pos);
      const buf = Buffer.allocUnsafe(n);
      const { bytesRead } = await this.handle.read(buf, 0, n, pos);
      if (bytesRead !== n) throw new RechunkerError('IO', `${this.file}: short read at ${pos}`);
      pos += n;
      yield buf;
    }
  }

  async readAll(ref: ContentRef): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const b of this.read(ref)) parts.push(b);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  async close(): Promise<void> {
    await this.handle.close();
    await fs.rm(this.file as PathLike, { force: true });
  }
}
