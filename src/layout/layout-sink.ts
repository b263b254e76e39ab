import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/types.js';
import type { BlobOutcome, ImageSink } from '../oci/transport.js';
import { fsFailure } from '../util/fs-failure.js';
import { release, removeOnSignal } from '../util/work-dir.js';
import { OciLayout } from './oci-layout.js';

/**
 * Writes an image into an OCI layout: blobs as they come, the tag last. Filesystem errors name
 * the reference (or, for a private layout, the work directory) and their errno; a directory
 * this sink created goes again unless a manifest was tagged in it.
 */
export class LayoutSink implements ImageSink {
  readonly layout: OciLayout;
  private tagged = false;
  private where: string;

  constructor(
    readonly name: string,
    dir: string,
    private readonly tag?: string,
    private readonly place: 'destination' | 'work directory' = 'destination',
  ) {
    this.layout = new OciLayout(dir);
    this.where = place === 'destination' ? name : `work directory ${path.dirname(dir)}`;
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.layout.hasBlob(desc.digest);
  }

  async putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<BlobOutcome> {
    if (await this.layout.hasBlob(desc.digest)) return 'skipped';
    await this.guard(async () => this.layout.writeBlob(await open(), desc));
    return 'uploaded';
  }

  /** Same filesystem: the finished file is renamed into place instead of copied. */
  async adoptFile(file: string, desc: Descriptor): Promise<BlobOutcome> {
    if (await this.layout.hasBlob(desc.digest)) return 'skipped';
    await this.guard(() => this.layout.adoptFile(file, desc));
    return 'uploaded';
  }

  /** A child manifest is a blob only the index names; the tag is set for the index alone. */
  async putManifest(bytes: Buffer, mediaType: string, digest: string, opts: { child?: boolean } = {}): Promise<void> {
    await this.guard(async () => {
      await this.layout.writeBlobBytes(bytes, digest);
      if (opts.child) return;
      await this.layout.setManifest({ mediaType, digest, size: bytes.length }, this.tag);
      this.tagged = true;
    });
  }

  async close(): Promise<void> {
    const created = this.layout.created;
    if (created === undefined) return;
    if (!this.tagged) await fs.rm(created, { recursive: true, force: true }).catch(() => {});
    release(created);
  }

  private async guard<T>(write: () => Promise<T>): Promise<T> {
    const before = this.layout.created;
    try {
      return await write();
    } catch (e) {
      throw fsFailure(e, this.where, this.place);
    } finally {
      if (before === undefined && this.layout.created !== undefined && this.place === 'destination')
        removeOnSignal(this.layout.created);
    }
  }
}
