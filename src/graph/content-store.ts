import { createHash, hash as cryptoHash, type Hash } from 'node:crypto';
import { promises as fs, type PathLike, readSync } from 'node:fs';
import path from 'node:path';
import { RechunkerError } from '../errors.js';
import { type ContentId, ContentIndex } from './content-index.js';

/** Each of the two write buffers: one is filled while the other is being written. */
const WRITE_BUFFER = 4 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;
const SYNC_READ = 256 * 1024;
const EMPTY_SHA256 = cryptoHash('sha256', '', 'buffer');

/**
 * Every distinct file content of an image, stored once, appended to one pack file on disk.
 * One file instead of a file per content: an OS image has ~100,000 small files and a syscall
 * storm per file costs more than the data. A content seen again is rewound over, so the pack
 * holds each content once. Each content is known by its id in `contents` (content-index.ts).
 *
 * Writes go out in the background, one at a time, from one buffer while the next is filled: an
 * awaited write stopped the tar reader, and with it the decompression feeding it (on the loaded
 * 2-core machine, 0.9-3 s of a 7-9 s read of corpus `updated` went to waiting for 25 writes).
 */
export class ContentStore {
  /** Every content put, with its place in the pack; a graph read into this store names contents by these ids. */
  readonly contents = new ContentIndex();
  private buffer = Buffer.allocUnsafe(WRITE_BUFFER);
  private spare = Buffer.allocUnsafe(WRITE_BUFFER);
  private buffered = 0;
  /** The write of `spare`'s bytes, while it is in flight. */
  private pending: Promise<void> | undefined;
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
    return this.contents.count;
  }

  /** Store a body of exactly `size` bytes; returns the id of its content. */
  async put(body: AsyncIterable<Buffer>, size: number, where: string): Promise<ContentId> {
    const start = this.flushedTo + this.buffered;
    // Most bodies come in one chunk: a one-shot hash of it costs about half of a Hash object's.
    let hash: Hash | undefined;
    let digest: Buffer | undefined;
    let seen = 0;
    for await (const chunk of body) {
      if (hash === undefined && seen === 0 && chunk.length === size) digest = cryptoHash('sha256', chunk, 'buffer');
      else {
        hash ??= createHash('sha256');
        hash.update(chunk);
      }
      seen += chunk.length;
      await this.append(chunk);
    }
    if (seen !== size) throw new RechunkerError('BAD_TAR', `${where}: body is ${seen} bytes, header says ${size}`);
    if (hash !== undefined) digest = hash.digest();
    digest ??= EMPTY_SHA256;
    const known = this.contents.find(digest);
    if (known !== undefined) {
      this.rewind(start);
      return known;
    }
    this.bytesStored += size;
    return this.contents.add(digest, size, start);
  }

  private async append(chunk: Buffer): Promise<void> {
    if (this.buffered + chunk.length > WRITE_BUFFER) await this.startFlush();
    if (chunk.length > WRITE_BUFFER) {
      await this.pending;
      await this.writeAll(chunk, chunk.length, this.flushedTo);
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

  /** Every byte put so far is in the file once this resolves. */
  async flush(): Promise<void> {
    await this.startFlush();
    await this.pending;
    this.pending = undefined;
  }

  /**
   * Start writing the filled buffer and fill the other meanwhile. One write at a time: after a
   * rewind the next write may cover bytes of the one before, and must land after it.
   */
  private async startFlush(): Promise<void> {
    await this.pending;
    if (this.buffered === 0) return;
    const write = this.writeAll(this.buffer, this.buffered, this.flushedTo);
    write.catch(() => {}); // awaited by the next flush; until then not an unhandled rejection
    this.pending = write;
    [this.buffer, this.spare] = [this.spare, this.buffer];
    this.flushedTo += this.buffered;
    this.buffered = 0;
  }

  /** A write may take fewer bytes than given (a filesystem filling up); the next one says why (ENOSPC). */
  private async writeAll(buf: Buffer, length: number, at: number): Promise<void> {
    for (let done = 0; done < length; ) {
      const { bytesWritten } = await this.handle.write(buf, done, length - done, at + done);
      if (bytesWritten === 0) throw new RechunkerError('IO', `${this.file}: the filesystem took no more bytes`);
      done += bytesWritten;
    }
  }

  /**
   * The content in chunks of at most 1 MiB, read with positioned reads (safe in parallel). A
   * content of at most SYNC_READ bytes is one synchronous read when it is asked for: the pack was
   * just written, so it is in the page cache, and a round trip through the thread pool per small
   * file (most of an OS image's files) cost more CPU than the copy, while compression waited for
   * that pool.
   */
  read(id: ContentId): AsyncIterable<Buffer> {
    if (this.contents.size(id) <= SYNC_READ) return new SmallRead(this, id);
    return this.readChunks(id);
  }

  /** The whole of a content, read on this thread; the write buffer is flushed first. */
  async readSmall(id: ContentId): Promise<Buffer> {
    if (this.buffered > 0 || this.pending !== undefined) await this.flush();
    const size = this.contents.size(id);
    const offset = this.contents.offset(id);
    const buf = Buffer.allocUnsafe(size);
    for (let done = 0; done < size; ) {
      const n = readSync(this.handle.fd, buf, done, size - done, offset + done);
      if (n === 0) throw new RechunkerError('IO', `${this.file}: short read at ${offset + done}`);
      done += n;
    }
    return buf;
  }

  private async *readChunks(id: ContentId): AsyncGenerator<Buffer> {
    if (this.buffered > 0 || this.pending !== undefined) await this.flush();
    let pos = this.contents.offset(id);
    const end = pos + this.contents.size(id);
    while (pos < end) {
      const n = Math.min(READ_CHUNK, end - pos);
      const buf = Buffer.allocUnsafe(n);
      const { bytesRead } = await this.handle.read(buf, 0, n, pos);
      if (bytesRead !== n) throw new RechunkerError('IO', `${this.file}: short read at ${pos}`);
      pos += n;
      yield buf;
    }
  }

  async readAll(id: ContentId): Promise<Buffer> {
    if (this.contents.size(id) <= SYNC_READ) return this.readSmall(id);
    const parts: Buffer[] = [];
    for await (const b of this.read(id)) parts.push(b);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  async close(): Promise<void> {
    await this.pending?.catch(() => {});
    await this.handle.close();
    await fs.rm(this.file as PathLike, { force: true });
  }
}

/** One small content as a one-chunk iterable, without an async generator's machinery per file. */
class SmallRead implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  private done = false;

  constructor(
    private readonly store: ContentStore,
    private readonly id: ContentId,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  async next(): Promise<IteratorResult<Buffer, undefined>> {
    if (this.done || this.store.contents.size(this.id) === 0) return { done: true, value: undefined };
    this.done = true;
    return { done: false, value: await this.store.readSmall(this.id) };
  }

  async return(): Promise<IteratorResult<Buffer, undefined>> {
    this.done = true;
    return { done: true, value: undefined };
  }
}
