import { createHash } from 'node:crypto';
import type { ImageSink, ResolvedImage } from '../oci/transport.js';
import type { Platform } from '../oci/types.js';
import type { BlobTally } from './blob-tally.js';
import type { BaseImage } from './keep-base.js';
import { sizeFigures } from './output-layers.js';
import type { PriorImage } from './prior-plan.js';
import type { RechunkOptions, RechunkResult } from './rechunk-types.js';

/** Everything besides the prior and the tree's host xattrs that decides what `rechunk` writes. */
export interface InputFacts {
  /** The tool's own version: another version may plan, or write, differently. */
  toolVersion: string;
  image: ResolvedImage;
  platform: Platform;
  /** --keep-base's image. */
  base?: ResolvedImage;
  /** The options that shape the output (not --jobs, --work-dir or --quiet), as plain data. */
  options: Record<string, unknown>;
}

/**
 * What the host-xattr rule did to this tree: 'none' when it carries no security.selinux or
 * trusted.* (then the rule, and so the transport, makes no difference), else whether they were
 * left out (rootfs:, containers-storage:) or kept.
 */
export type HostXattrs = 'none' | 'stripped' | 'kept';

/**
 * The build's input, as one digest the plan label records. The source is named by its config
 * digest, which pins every layer's diff_id (the tree) and the config itself, and not by its
 * manifest or transport: the same image from a layout, an archive, a registry or a store is one
 * input and gives one output. Only the host-xattr rule differs between transports, and it counts
 * only for a tree that carries such xattrs (HostXattrs).
 */
export function inputKey(facts: InputFacts, hostXattrs: HostXattrs): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify([
      facts.toolVersion,
      facts.image.manifest.config.digest,
      facts.image.manifest.annotations ?? null,
      facts.platform,
      facts.base?.manifest.config.digest ?? null,
      facts.options,
      hostXattrs,
    ]),
  );
  return `sha256:${h.digest('hex')}`;
}

/**
 * Is the image at the destination this very build, already done? It is when it was built from
 * the same input (its label's key is one of ours: the tree without host xattrs, or with them under
 * this run's rule) and the destination still holds every blob it names.
 * A full build onto it would write it again byte for byte: its own plan is a fixed point of the
 * planner (every fingerprint matches, so no history grows and no component moves), which the
 * rebuild test checks against a full build.
 */
export async function alreadyBuilt(
  prior: PriorImage | undefined,
  keys: readonly string[],
  sink: ImageSink,
): Promise<boolean> {
  if (prior?.plan.input === undefined || !keys.includes(prior.plan.input)) return false;
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
  const plan = prior.plan;
  return {
    source: opts.source,
    destination: opts.destination,
    manifestDigest: prior.image.manifestDigest,
    layers,
    components: Object.keys(plan.components ?? {}).length,
    files: plan.files ?? 0,
    directories: plan.directories ?? 0,
    ...sizeFigures(layers.map((l) => l.size)),
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
