import type { ContentStore } from '../graph/content-store.js';
import type { Component } from '../components/types.js';
import type { Platform } from '../oci/types.js';
import { fingerprintComponents } from '../plan/fingerprint.js';
import { planLayers } from '../plan/plan-layers.js';
import type { PackerName, Plan, PriorPlan } from '../plan/plan-types.js';
import type { TreeSource } from '../graph/tree-source.js';
import type { ImageSource } from '../oci/transport.js';
import { RechunkerError } from '../errors.js';
import { componentsAboveBase } from './keep-base.js';
import { readImage, type FlattenedImage, type ReadOptions } from './read-image.js';
import type { Progress } from '../progress.js';

export interface PlanningOptions {
  maxLayers: number;
  /** Layers the parent-directory strategy adds on top of the component layers. */
  extraLayers: number;
  prior?: PriorPlan;
  packer?: PackerName;
  /** See readImage. */
  editTree?: ReadOptions['editTree'];
  base?: ReadOptions['base'];
  image?: ReadOptions['image'];
}

export interface PlannedImage extends FlattenedImage {
  plan: Plan;
  /** The components the plan packs: all of them, or with a base only what changed above it. */
  planned: Component[];
}

/**
 * What `rechunk` and `plan` share: analyze the image, fingerprint its components, plan them. Each
 * warning (the analysis's, a large --max-layers) is reported once on `progress` and kept in
 * `warnings`; how the prior was used is a note (it is in the plan's notes too).
 */
export async function readAndPlan(
  source: ImageSource | TreeSource,
  platform: Platform,
  store: ContentStore,
  progress: Progress,
  opts: PlanningOptions,
): Promise<PlannedImage> {
  const analysis = await readImage(source, platform, store, progress, {
    ...(opts.editTree ? { editTree: opts.editTree } : {}),
    ...(opts.base ? { base: opts.base } : {}),
    ...(opts.image ? { image: opts.image } : {}),
  });
  const above = analysis.above;
  const planned = above ? componentsAboveBase(analysis.components, above.delta, analysis.graph) : analysis.components;
  // Kept layers and the whiteout layer count in --max-layers like any other: runtimes stack them all.
  const whiteoutLayer = above && above.delta.whiteouts.length > 0 ? 1 : 0;
  const layerBudget = opts.maxLayers - opts.extraLayers - (above?.keptLayers ?? 0) - whiteoutLayer;
  if (above && layerBudget < 1)
    throw new RechunkerError(
      'USAGE',
      `--max-layers ${opts.maxLayers}: the ${above.keptLayers} layers kept from the base, ${whiteoutLayer} of whiteouts and ` +
        `${opts.extraLayers} of directories leave none for what ${source.name} adds`,
    );
  const plan = planLayers({
    components: planned,
    layerBudget,
    maxLayers: opts.maxLayers,
    fingerprints: fingerprintComponents(analysis.graph, planned),
    packer: opts.packer ?? 'rechunker',
    ...(opts.prior ? { prior: opts.prior } : {}),
  });
  const tooManyLayers = layerCountWarning(opts.maxLayers);
  if (tooManyLayers) {
    progress.warn(tooManyLayers);
    analysis.warnings.push(tooManyLayers);
  }
  for (const n of plan.notes) progress.note(n);
  return { ...analysis, plan, planned };
}

/**
 * The most layers each runtime stacks; an image with more fails to pull there (moby: "max depth
 * exceeded", its overlay2 maxDepth). containerd's overlayfs snapshotter has no limit of its own
 * beyond the kernel overlayfs's stack depth, so it is not listed.
 */
export const RUNTIME_LAYER_LIMITS: ReadonlyArray<{ runtime: string; layers: number }> = [
  { runtime: "moby's overlay2 (docker)", layers: 128 },
  { runtime: 'containers/storage (podman, CRI-O)', layers: 500 },
];

/** Above this many layers rechunk warns: the lowest of the limits. */
export const WARN_LAYERS = Math.min(...RUNTIME_LAYER_LIMITS.map((l) => l.layers));

/** The warning for a --max-layers some runtime cannot stack, naming each such runtime and its limit. */
export function layerCountWarning(maxLayers: number): string | undefined {
  const over = RUNTIME_LAYER_LIMITS.filter((l) => maxLayers > l.layers);
  if (over.length === 0) return undefined;
  const limits = over.map((l) => `${l.runtime} stacks at most ${l.layers}`).join(', ');
  return `--max-layers ${maxLayers}: ${limits}; an image with more layers fails to pull there`;
}
