import type { Readable } from 'node:stream';
import type { BlobOutcome, ImageSink } from './transport.js';
import type { Descriptor } from './types.js';

/**
 * A destination written in two steps: everything goes into a local sink first (a private layout
 * or archive), and once the top manifest is in, `deliver` hands the finished image on (to stdout,
 * to containers-storage). Child manifests of an index are stored but deliver nothing yet.
 */
export class StagedSink implements ImageSink {
  constructor(
    readonly name: string,
    private readonly staging: ImageSink,
    private readonly deliver: () => Promise<void>,
    private readonly cleanup: () => Promise<void>,
  ) {}

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.staging.hasBlob(desc);
  }

  putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<BlobOutcome> {
    return this.staging.putBlob(desc, open);
  }

  async adoptFile(file: string, desc: Descriptor): Promise<BlobOutcome> {
    if (this.staging.adoptFile) return this.staging.adoptFile(file, desc);
    const { createReadStream } = await import('node:fs');
    return this.staging.putBlob(desc, async () => createReadStream(file));
  }

  async putManifest(bytes: Buffer, mediaType: string, digest: string, opts?: { child?: boolean }): Promise<void> {
    await this.staging.putManifest(bytes, mediaType, digest, opts);
    if (!opts?.child) await this.deliver();
  }

  async close(): Promise<void> {
    await this.staging.close();
    await this.cleanup();
  }
}
