import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { RechunkerError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { BlobOutcome, ImageSink } from '../oci/transport.js';
import { LayoutSink } from '../layout/layout-sink.js';
import { extractLayout } from './extract-layout.js';
import { reachableBlobs } from './reachable.js';
import { writeLayoutArchive } from './write-archive.js';
import { fsFailure } from '../util/fs-failure.js';
import { makeDirs } from '../util/make-dirs.js';
import { defaultWorkParent, makeWorkDir, release, removeOnSignal, removeWorkDir } from '../util/work-dir.js';

/**
 * `oci-archive:FILE[:TAG]` as a destination. The image is written into a private layout dir; on
 * putManifest the tag is set there and the whole layout is written as a deterministic tar
 * (see writeLayoutArchive) beside FILE and renamed over it. An existing archive is read in first,
 * so its other images stay; blobs that only the replaced image used are dropped, so rewriting a
 * tag does not grow the file and the same inputs give the same bytes.
 */
export class ArchiveSink implements ImageSink {
  private sink: Promise<LayoutSink> | undefined;
  private tmp: string | undefined;

  constructor(
    readonly name: string,
    private readonly file: string,
    private readonly tag?: string,
    /** --work-dir; else where work directories go by default. */
    private readonly tmpParent: string = defaultWorkParent(),
  ) {}

  private open(): Promise<LayoutSink> {
    this.sink ??= (async () => {
      const tmp = await makeWorkDir(this.tmpParent, 'rechunker-archive-out-');
      this.tmp = tmp;
      let exists = true;
      try {
        await fs.lstat(this.file);
      } catch {
        exists = false;
      }
      if (exists) {
        try {
          await extractLayout(this.file, tmp, this.name);
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          const code = e instanceof RechunkerError ? e.code : 'IO';
          throw new RechunkerError(
            code,
            `${this.name}: ${this.file} exists and is not an OCI archive this tool can add to (${why}); remove it or choose another name`,
            { cause: e },
          );
        }
      }
      return new LayoutSink(this.name, tmp, this.tag, 'work directory');
    })();
    return this.sink;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return (await this.open()).hasBlob(desc);
  }

  async putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<BlobOutcome> {
    return (await this.open()).putBlob(desc, open);
  }

  async adoptFile(file: string, desc: Descriptor): Promise<BlobOutcome> {
    return (await this.open()).adoptFile(file, desc);
  }

  /** Only the top manifest writes the archive: an index's manifests are blobs until it comes. */
  async putManifest(bytes: Buffer, mediaType: string, digest: string, opts: { child?: boolean } = {}): Promise<void> {
    const sink = await this.open();
    if (opts.child) return sink.putManifest(bytes, mediaType, digest, opts);
    const dir = this.tmp!;
    const before = await reachableBlobs(dir);
    await sink.putManifest(bytes, mediaType, digest);
    const after = before ? await reachableBlobs(dir) : undefined;
    if (before && after) {
      for (const d of before)
        if (!after.has(d)) await fs.rm(path.join(dir, 'blobs', 'sha256', d.slice(7)), { force: true });
    }
    // A missing parent directory is made, as an oci: destination's is, and goes again on failure.
    const made = await makeDirs(path.dirname(path.resolve(this.file))).catch((e: unknown) => {
      throw fsFailure(e, this.name, 'destination');
    });
    if (made) removeOnSignal(made);
    try {
      await writeLayoutArchive(dir, this.file, this.name);
    } catch (e) {
      if (made) await fs.rm(made, { recursive: true, force: true }).catch(() => {});
      throw e;
    } finally {
      if (made) release(made);
    }
  }

  async close(): Promise<void> {
    await this.sink?.catch(() => {});
    if (this.tmp) await removeWorkDir(this.tmp);
    this.tmp = undefined;
  }
}
