import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { RechunkerError, withContext } from '../errors.js';
import { checkDigest, HashCounter, shortDigest, verifiesItself, VerifyStream } from '../oci/digest.js';
import { MediaType, RefNameAnnotation, type Descriptor, type Index } from '../oci/types.js';
import { parseManifest } from '../oci/validate.js';
import { BatchedFileWriter } from '../util/batched-file-writer.js';
import { withFileLock } from '../util/file-lock.js';
import { makeDirs } from '../util/make-dirs.js';
import { release, removeOnSignal } from '../util/work-dir.js';

/** index.json lists every tag: far more room than one manifest gets (resolve.ts), still bounded. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

/**
 * The size of `file`, which must be a regular file (after symlinks). Opening a FIFO or a device
 * for reading blocks, or never ends, in a thread that even a signal cannot stop.
 */
async function regularFileSize(file: string, what: string): Promise<number> {
  const st = await fs.stat(file);
  if (st.isFile()) return st.size;
  const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device';
  throw new RechunkerError('BAD_MANIFEST', `${what} is ${kind}, not a regular file`);
}

/**
 * An OCI image layout directory (image-spec image-layout.md): `oci-layout`, `index.json`,
 * `blobs/sha256/<hex>`. Blobs are written to a temporary name and renamed once their digest is
 * known; index.json is replaced atomically, so a reader never sees a half-written image.
 */
export class OciLayout {
  constructor(readonly dir: string) {}

  blobPath(digest: string): string {
    checkDigest(digest, this.dir);
    return path.join(this.dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  async readIndex(): Promise<Index> {
    const file = path.join(this.dir, 'index.json');
    let bytes: Buffer;
    try {
      const size = await regularFileSize(file, `${this.dir}: index.json`);
      if (size > MAX_INDEX_BYTES)
        throw new RechunkerError(
          'BAD_MANIFEST',
          `${this.dir}: index.json is ${size} bytes, over the ${MAX_INDEX_BYTES} byte limit`,
        );
      bytes = await fs.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new RechunkerError('NOT_FOUND', `${this.dir}: not an OCI image layout (no index.json)`);
      throw withContext(e, this.dir);
    }
    const parsed = parseManifest(bytes, MediaType.OciIndex, `${file}`);
    if (parsed.kind !== 'index') throw new RechunkerError('BAD_MANIFEST', `${file}: not an image index`);
    return parsed.index;
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      await fs.access(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  async blobSize(digest: string): Promise<number> {
    return (await fs.stat(this.blobPath(digest))).size;
  }

  /** A stream of the blob that fails unless the bytes match the descriptor. */
  async openBlob(desc: Descriptor, what = `blob ${desc.digest}`): Promise<Readable> {
    const file = this.blobPath(desc.digest);
    try {
      await regularFileSize(file, `${this.dir}: ${what}`);
    } catch (e) {
      if (e instanceof RechunkerError) throw e;
      throw new RechunkerError('NOT_FOUND', `${this.dir}: ${what} is missing (${path.relative(this.dir, file)})`);
    }
    const verify = new VerifyStream(desc.digest, desc.size, `${this.dir}: ${what}`);
    const input = createReadStream(file, { highWaterMark: 1024 * 1024 });
    input.on('error', (e) => verify.destroy(withContext(e, `${this.dir}: ${what}`)));
    return input.pipe(verify);
  }

  async readBlob(desc: Descriptor, limit: number, what = `blob ${desc.digest}`): Promise<Buffer> {
    if (desc.size > limit)
      throw new RechunkerError(
        'BAD_MANIFEST',
        `${this.dir}: ${what} is ${desc.size} bytes, over the ${limit} byte limit`,
      );
    const chunks: Buffer[] = [];
    for await (const chunk of await this.openBlob(desc, what)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** The topmost directory this object created (the layout's, or a parent of it), if any. */
  created: string | undefined;

  private async makeDir(dir: string): Promise<void> {
    const top = await makeDirs(dir);
    if (top !== undefined && this.created === undefined && !path.relative(top, this.dir).startsWith('..'))
      this.created = top;
  }

  /** blobs/sha256, made once per layout object rather than once per blob. */
  private blobDir?: Promise<string>;

  private async tempPath(): Promise<string> {
    if (!this.blobDir) {
      const dir = path.join(this.dir, 'blobs', 'sha256');
      this.blobDir = this.makeDir(dir).then(
        () => dir,
        (e: unknown) => {
          this.blobDir = undefined;
          throw e;
        },
      );
    }
    const tmp = path.join(await this.blobDir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    removeOnSignal(tmp);
    return tmp;
  }

  /**
   * Write a stream as a blob; when `expect` is given the bytes must match it. One hash pass either
   * way: a source that verifies itself against `expect` (a layout's or a registry's blob stream)
   * is not hashed again, since it fails instead of ending when its bytes are wrong, and the blob
   * is renamed into place only after the source has ended.
   */
  async writeBlob(
    source: Readable,
    expect?: { digest: string; size: number },
  ): Promise<{ digest: string; size: number }> {
    // The source can fail before the pipeline below listens to it (a small blob that does not
    // match its digest is read to its end while the temporary name is made), and an 'error' no
    // one listens to ends the process with a stack trace: hold it for this call to throw.
    let early: unknown;
    const hold = (e: unknown) => {
      early ??= e;
    };
    source.on('error', hold);
    const tmp = await this.tempPath();
    try {
      if (early !== undefined) throw early;
      let result: { digest: string; size: number };
      if (expect) {
        const check = verifiesItself(source, expect)
          ? []
          : [new VerifyStream(expect.digest, expect.size, `blob ${shortDigest(expect.digest)}`)];
        await pipeline([source, ...check, new BatchedFileWriter(tmp)]);
        result = { digest: expect.digest, size: expect.size };
      } else {
        const counter = new HashCounter();
        await pipeline(source, counter, new BatchedFileWriter(tmp));
        result = { digest: counter.digest(), size: counter.bytes };
      }
      await fs.rename(tmp, this.blobPath(result.digest));
      return result;
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    } finally {
      source.off('error', hold);
      release(tmp);
    }
  }

  async writeBlobBytes(bytes: Buffer, digest: string): Promise<void> {
    if (await this.hasBlob(digest)) return;
    const tmp = await this.tempPath();
    try {
      await fs.writeFile(tmp, bytes);
      await fs.rename(tmp, this.blobPath(digest));
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    } finally {
      release(tmp);
    }
  }

  /** Move a finished local file in as a blob (same filesystem), or copy it when rename cannot. */
  async adoptFile(file: string, desc: Descriptor): Promise<void> {
    const dest = this.blobPath(desc.digest);
    await this.makeDir(path.dirname(dest));
    try {
      await fs.rename(file, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw withContext(e, this.dir);
      await this.writeBlob(createReadStream(file), desc);
    }
  }

  /** Point `tag` (or, without one, an untagged entry) at `desc`, replacing what the tag named. */
  async setManifest(desc: Descriptor, tag: string | undefined): Promise<void> {
    await this.makeDir(this.dir);
    const layoutFile = path.join(this.dir, 'oci-layout');
    try {
      await fs.access(layoutFile);
    } catch {
      await fs.writeFile(layoutFile, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    }
    // Read, edit and replace under a lock: a concurrent writer of another tag must not be lost.
    await withFileLock(path.join(this.dir, 'index.json'), async () => {
      let index: Index;
      try {
        index = await this.readIndex();
      } catch (e) {
        if (!(e instanceof RechunkerError && e.code === 'NOT_FOUND')) throw e;
        index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
      }
      const keep = index.manifests.filter((m) => {
        const name = m.annotations?.[RefNameAnnotation];
        return tag === undefined ? !(name === undefined && m.digest === desc.digest) : name !== tag;
      });
      const entry: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
      if (tag !== undefined) entry.annotations = { [RefNameAnnotation]: tag };
      const next: Index = { ...index, schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...keep, entry] };
      const tmp = path.join(this.dir, `.index.json.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
      await fs.writeFile(tmp, JSON.stringify(next, null, 2) + '\n');
      await fs.rename(tmp, path.join(this.dir, 'index.json'));
    });
  }
}
