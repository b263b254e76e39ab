import { createHash } from 'node:crypto';
import { parseReference } from '../ref/image-reference.js';
import type { ImageSink, ResolvedImage } from '../oci/transport.js';
import type { Platform } from '../oci/types.js';
import type { BlobTally } from './blob-tally.js';
import type { BaseImage } from './keep-base.js';
import type { PriorImage } from './prior-plan.js';
import type { RechunkOptions, RechunkResult } from './rechunk-types.js';

/** Everything besides the prior that decides what `rechunk` writes. */
export interface InputFacts {
  /** The tool's own version: another version may plan, or write, differently. */
  toolVersion: string;
  source: string;
  image: ResolvedImage;
  platform: Platform;
  /** --keep-base's manifest digest. */
  baseDigest?: string;
  /** The options that shape the output (not --jobs, --work-dir or --quiet), as plain data. */
  options: Record<string, unknown>;
}

/**
 * The build's input, as one digest the plan label records: the source image (by manifest digest,
 * which names its config and every layer blob), its transport (containers-storage and rootfs:
 * xattr rules differ), the base, the options and the tool's version. Two builds with the same key
 * read the same bytes and make the same choices, except for what the prior plan steers.
 */
export function inputKey(facts: InputFacts): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify([
      facts.toolVersion,
      parseReference(facts.source).transport,
      facts.image.manifestDigest,
      facts.platform,
      facts.baseDigest ?? null,
      facts.options,
    ]),
  );
  return `sha256:${h.digest('hex')}`;
}

/**
 * Is the image at the destination this very build, already done? It is when it was built from
 * the same input (its label's key is ours) and the destination still holds every blob it names.
 * A full build onto it would write it again byte for byte: its own plan is a fixed point of the
 * planner (every fingerprint matches, so no history grows and no component moves), which the
 * rebuild test checks against a full build.
 */
export async function alreadyBuilt(prior: PriorImage | undefined, key: string, sink: ImageSink): Promise<boolean> {
  if (prior?.plan.input !== key) return false;
  const { manifest } = prior.image;
  for (const desc of [manifest.config, ...manifest.layers]) if (!(await sink.hasBlob(desc))) return false;
  return true;
}

/**
 * The report of a build that found itself already done: the prior's layers, all kept, and what its
 * label recorded about the tree. Nothing is written: the tag already names the manifest.
 */
export function unchangedResult(
  opts: RechunkOptions,
  prior: PriorImage,
  base: BaseImage | undefined,
  tally: BlobTally,
): RechunkResult {
  const { manifest } = prior.image;
  for (const desc of [...manifest.layers, manifest.config]) tally.record(desc, 'skipped');
  const baseLayers = base?.resolved.manifest.layers ?? [];
  let keptCount = 0;
  while (keptCount < baseLayers.length && baseLayers[keptCount]!.digest === manifest.layers[keptCount]?.digest)
    keptCount++;
  const layers = prior.layers.map((l, i) => ({
    digest: l.descriptor.digest,
    size: l.descriptor.size,
    uncompressedSize: null,
    components: [...l.components],
    reused: i >= keptCount,
    kept: i < keptCount,
  }));
  const sizes = layers.map((l) => l.size).sort((a, b) => a - b);
  const plan = prior.plan;
  return {
    source: opts.source,
    destination: opts.destination,
    manifestDigest: prior.image.manifestDigest,
    layers,
    components: Object.keys(plan.components ?? {}).length,
    files: plan.files ?? 0,
    directories: plan.directories ?? 0,
    largestLayer: sizes.at(-1) ?? 0,
    medianLayer: sizes[Math.floor((sizes.length - 1) / 2)] ?? 0,
    warnings: [],
    prior: prior.ref,
    keptBase: base ? { ref: base.ref, layers: keptCount } : null,
    plan: {
      expectedCost: plan.expectedCost ?? 0,
      expectedLowerBound: plan.expectedLowerBound ?? 0,
      notes: ['the destination already holds this build (same input): nothing read, nothing written'],
    },
    layersReused: layers.length,
    transfer: tally.summary(),
    edits: { pruned: 0, hostXattrFiles: 0, notes: [] },
    unchanged: true,
  };
}
