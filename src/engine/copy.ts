import { openImageSource, openSink, type TransportOptions } from './open-reference.js';
import { MediaType, type Descriptor, type Platform } from '../oci/types.js';
import { DEFAULT_JOBS } from '../registry/index.js';
import { mapLimit } from '../util/concurrency.js';
import { silentProgress, type Progress } from '../progress.js';

export interface CopyOptions {
  source: string;
  destination: string;
  platform: Platform;
  transport?: TransportOptions;
  /** Blobs transferred at once (default DEFAULT_JOBS). */
  jobs?: number;
  progress?: Progress;
}

export interface CopyResult {
  source: string;
  destination: string;
  manifestDigest: string;
  blobs: number;
  bytes: number;
}

/**
 * Transport only: the chosen image's blobs and its manifest, bytes unchanged, so the manifest
 * digest is the same at both ends. Blobs first, the manifest last.
 */
export async function copyImage(opts: CopyOptions): Promise<CopyResult> {
  const progress = opts.progress ?? silentProgress;
  const source = await openImageSource(opts.source, opts.transport);
  const sink = await openSink(opts.destination, { ...opts.transport, mountFrom: opts.source });
  try {
    progress.phase(`resolving ${opts.source}`);
    const image = await source.resolve(opts.platform);
    const blobs: Descriptor[] = [image.manifest.config, ...image.manifest.layers];
    let done = 0;
    progress.phase(`copying ${blobs.length} blobs`);
    await mapLimit(blobs, opts.jobs ?? DEFAULT_JOBS, async (desc) => {
      await sink.putBlob(desc, () => source.openBlob(desc));
      progress.advance(++done, blobs.length);
    });
    const mediaType = image.manifest.mediaType ?? MediaType.OciManifest;
    await sink.putManifest(image.manifestBytes, mediaType, image.manifestDigest);
    return {
      source: opts.source,
      destination: opts.destination,
      manifestDigest: image.manifestDigest,
      blobs: blobs.length,
      bytes: blobs.reduce((n, b) => n + b.size, 0),
    };
  } finally {
    progress.done();
    await source.close();
    await sink.close();
  }
}
