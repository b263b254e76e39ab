import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import type { ImageSink } from '../oci/transport.js';
import type { Descriptor } from '../oci/types.js';

/**
 * `oci-archive:-`: the archive is written to a temporary file by the archive sink and, once the
 * manifest is in, streamed to stdout (for `| podman load`, as chunkah's `-o -`). Not streamed as
 * the layers are made: an archive's index must name the manifest, known only at the end, and a
 * tar cannot be rewritten once sent.
 */
export class StdoutSink implements ImageSink {
  constructor(
    readonly name: string,
    private readonly archive: ImageSink,
    private readonly file: string,
    private readonly cleanup: () => Promise<void>,
    private readonly out: Writable = process.stdout,
  ) {}

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.archive.hasBlob(desc);
  }

  putBlob(desc: Descriptor, open: () => Promise<Readable>): ReturnType<ImageSink['putBlob']> {
    return this.archive.putBlob(desc, open);
  }

  async adoptFile(file: string, desc: Descriptor): Promise<Awaited<ReturnType<ImageSink['putBlob']>>> {
    if (this.archive.adoptFile) return this.archive.adoptFile(file, desc);
    const { createReadStream: open } = await import('node:fs');
    return this.archive.putBlob(desc, async () => open(file));
  }

  async putManifest(bytes: Buffer, mediaType: string, digest: string, opts?: { child?: boolean }): Promise<void> {
    await this.archive.putManifest(bytes, mediaType, digest, opts);
    if (opts?.child) return;
    await pipeline(createReadStream(this.file), this.out, { end: false });
  }

  async close(): Promise<void> {
    await this.archive.close();
    await this.cleanup();
  }
}
