import { RechunkerError } from '../errors.js';
import { openImageSource, openSink, type TransportOptions } from './open-reference.js';
import { formatPlatform, hostPlatform, requirePlatform } from '../oci/platform.js';
import { describesImage, MediaType, type Descriptor, type Platform } from '../oci/types.js';
import type { ImageSource, StoredManifest } from '../oci/transport.js';
import { toOciManifests } from '../oci/to-oci.js';
import { parseReference } from '../ref/image-reference.js';
import { parseManifest } from '../oci/validate.js';
import { DEFAULT_JOBS } from '../oci/transport.js';
import { mapLimit } from '../util/concurrency.js';
import { silentProgress, type Progress } from '../progress.js';
import { BlobTally, tallySink, type TransferSummary } from './blob-tally.js';

export interface CopyOptions {
  source: string;
  destination: string;
  /** Copy only this platform's image; without it a multi-platform index is copied whole. */
  platform?: Platform;
  transport?: TransportOptions;
  /** Blobs transferred at once (default DEFAULT_JOBS). */
  jobs?: number;
  progress?: Progress;
}

export interface CopyResult {
  source: string;
  destination: string;
  /** The digest of what the destination's tag names: the index when a whole index was copied. */
  manifestDigest: string;
  /** The platforms of the images copied (one entry per image manifest; 'unknown' when unstated). */
  platforms: string[];
  blobs: number;
  bytes: number;
  transfer: TransferSummary;
}

/** Manifests below an index, in the order they must reach the destination: children first. */
interface CopyPlan {
  manifests: StoredManifest[];
  blobs: Map<string, Descriptor>;
  platforms: string[];
}

/** Indexes inside indexes: how many levels are followed before giving up (as resolve.ts). */
const MAX_NESTING = 4;

/**
 * Transport only: blobs and manifests, bytes unchanged, so the digest is the same at both ends;
 * but Docker schema 2 manifests go into an OCI layout or archive as OCI ones (to-oci.ts).
 * Without --platform a multi-platform index is copied whole (skopeo copy --all): every image's
 * blobs, then each image manifest, the index last; with it, the one image.
 */
export async function copyImage(opts: CopyOptions): Promise<CopyResult> {
  const progress = opts.progress ?? silentProgress;
  const source = await openImageSource(opts.source, opts.transport);
  try {
    progress.phase(`resolving ${opts.source}`);
    const plan = await planCopy(source, opts.platform);
    const tally = new BlobTally();
    const sink = tallySink(await openSink(opts.destination, { ...opts.transport, mountFrom: opts.source }), tally);
    try {
      const blobs = [...plan.blobs.values()];
      let done = 0;
      progress.phase(`copying ${blobs.length} blobs`);
      await mapLimit(blobs, opts.jobs ?? DEFAULT_JOBS, async (desc) => {
        await sink.putBlob(desc, () => source.openBlob(desc));
        progress.advance(++done, blobs.length);
      });
      let manifests = plan.manifests;
      const into = parseReference(opts.destination).transport;
      if (into === 'oci' || into === 'oci-archive') {
        const oci = toOciManifests(manifests);
        if (oci.converted)
          progress.note('Docker schema 2 manifests written as OCI ones, as an OCI layout needs (the digest changes)');
        manifests = oci.manifests;
      }
      const top = manifests[manifests.length - 1]!;
      for (const m of manifests) {
        await sink.putManifest(
          m.bytes,
          m.mediaType ?? MediaType.OciManifest,
          m.digest,
          m === top ? {} : { child: true },
        );
      }
      return {
        source: opts.source,
        destination: opts.destination,
        manifestDigest: top.digest,
        platforms: plan.platforms,
        blobs: blobs.length,
        bytes: blobs.reduce((n, b) => n + b.size, 0),
        transfer: tally.summary(),
      };
    } finally {
      await sink.close();
    }
  } finally {
    progress.done();
    await source.close();
  }
}

async function planCopy(source: ImageSource, platform: Platform | undefined): Promise<CopyPlan> {
  const plan: CopyPlan = { manifests: [], blobs: new Map(), platforms: [] };
  if (platform !== undefined || !source.readTop || !source.readManifest) {
    const image = await source.resolve(platform ?? hostPlatform());
    if (platform !== undefined) requirePlatform(image.config, platform, source.name);
    for (const d of [image.manifest.config, ...image.manifest.layers]) plan.blobs.set(d.digest, d);
    plan.manifests.push({
      bytes: image.manifestBytes,
      mediaType: image.manifest.mediaType,
      digest: image.manifestDigest,
    });
    plan.platforms.push(formatPlatform(image.config.os ? image.config : undefined));
    return plan;
  }
  await addManifest(source, await source.readTop(hostPlatform()), undefined, plan, 0);
  return plan;
}

async function addManifest(
  source: ImageSource,
  m: StoredManifest,
  platform: Platform | undefined,
  plan: CopyPlan,
  depth: number,
): Promise<void> {
  const where = `${source.name}: manifest ${m.digest}`;
  const parsed = parseManifest(m.bytes, m.mediaType, where);
  if (parsed.kind === 'manifest') {
    for (const d of [parsed.manifest.config, ...parsed.manifest.layers]) plan.blobs.set(d.digest, d);
    plan.platforms.push(formatPlatform(platform));
  } else {
    if (depth >= MAX_NESTING)
      throw new RechunkerError('BAD_MANIFEST', `${where}: image indexes nested more than ${MAX_NESTING} deep`);
    for (const entry of parsed.index.manifests) {
      if (!describesImage(entry)) {
        const what = `${entry.mediaType} (${entry.digest})`;
        throw new RechunkerError(
          'UNSUPPORTED',
          `${where}: the index names a ${what}, which copy cannot carry; copy one image with --platform`,
        );
      }
      if (plan.manifests.some((x) => x.digest === entry.digest)) continue;
      await addManifest(source, await source.readManifest!(entry), entry.platform, plan, depth + 1);
    }
  }
  plan.manifests.push(m);
}
