import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/types.js';
import type { ImageSink } from '../oci/transport.js';
import { OciLayout } from './oci-layout.js';

/** Writes an image into an OCI layout: blobs as they come, the tag last. */
export class LayoutSink implements ImageSink {
  readonly layout: OciLayout;

  constructor(readonly name: string, dir: string, private readonly tag?: string) {
    this.layout = new OciLayout(dir);
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.layout.hasBlob(desc.digest);
  }

  async putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    if (await this.layout.hasBlob(desc.digest)) return;
    await this.layout.writeBlob(await open(), desc);
  }

  /** Same filesystem: the finished file is renamed into place instead of copied. */
  async adoptFile(file: string, desc: Descriptor): Promise<void> {
    if (await this.layout.hasBlob(desc.digest)) return;
    await this.layout.adoptFile(file, desc);
  }

  async putManifest(bytes: Buffer, mediaType: string, digest: string): Promise<void> {
    await this.layout.writeBlobBytes(bytes, digest);
    await this.layout.setManifest({ mediaType, digest, size: bytes.length }, this.tag);
  }

  async close(): Promise<void> {}
}
