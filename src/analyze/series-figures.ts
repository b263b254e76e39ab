import type { Component } from '../components/types.js';
import { planLayers } from '../plan/plan-layers.js';
import type { Plan } from '../plan/plan-types.js';
import { updateCost } from '../plan/update-cost.js';
import type { SeriesStep } from './analyze-report.js';
import type { ComponentSummary, ImageSummary } from './index-schema.js';

export interface PlanBudget {
  /** --max-layers, and the layers left to components once the parent-directory strategy has its own. */
  maxLayers: number;
  layerBudget: number;
}

function asComponent(c: ComponentSummary): Component {
  // The planner reads names, kinds, sizes, groups and metadata; paths only matter to writers.
  return {
    name: c.name,
    kind: c.kind,
    paths: [],
    size: c.size,
    ...(c.group ? { group: c.group } : {}),
    ...(c.meta ? { meta: c.meta } : {}),
  };
}

function plan(img: ImageSummary, budget: PlanBudget, prior?: Plan): Plan {
  return planLayers({
    components: img.components.map(asComponent),
    layerBudget: budget.layerBudget,
    maxLayers: budget.maxLayers,
    fingerprints: new Map(img.components.map((c) => [c.name, c.fingerprint])),
    ...(prior
      ? {
          prior: {
            version: prior.version,
            maxLayers: prior.maxLayers,
            layers: prior.layers,
            components: prior.components,
          },
        }
      : {}),
  });
}

/**
 * Each image of the series after the first, against the one before it. Blob and chain reuse come
 * from the manifests (plan/update-cost.ts); the rechunked figure plans both images in memory,
 * the second with the first's plan as prior (what `rechunk --prior` does), and counts a layer
 * as downloaded unless the prior has a layer of the same components with the same fingerprints.
 * A layer weighs what its files weigh gzip'd alone, and the layer of directories (the default
 * parent-directory mode) is downloaded when any directory's metadata changed.
 */
export function seriesSteps(
  images: readonly ImageSummary[],
  budget: PlanBudget,
  lowerBounds: readonly number[],
): SeriesStep[] {
  const steps: SeriesStep[] = [];
  let prior = images.length > 0 ? plan(images[0]!, budget) : undefined;
  for (let i = 1; i < images.length; i++) {
    const from = images[i - 1]!;
    const to = images[i]!;
    const cost = updateCost(
      from.layers.map((l) => ({ digest: l.digest, size: l.compressedSize })),
      to.layers.map((l) => ({ digest: l.digest, size: l.compressedSize })),
    );
    const next = plan(to, budget, prior);
    const before = new Set(prior!.layers.map((l) => layerKey(l.components, from)));
    const compressed = new Map(to.components.map((c) => [c.name, c.compressedSize]));
    let download = 0;
    let changed = 0;
    for (const l of next.layers) {
      if (before.has(layerKey(l.components, to))) continue;
      changed++;
      download += l.components.reduce((s, n) => s + (compressed.get(n) ?? 0), 0);
    }
    if (from.dirFingerprint !== to.dirFingerprint) {
      changed++;
      download += to.dirLayerBytes;
    }
    steps.push({
      from: from.name,
      to: to.name,
      imageBytes: cost.imageBytes,
      blobDownload: cost.blobDownload,
      chainDownload: cost.chainDownload,
      lowerBound: lowerBounds[i - 1] ?? 0,
      rechunkedDownload: download,
      rechunkedLayers: next.layers.length + 1,
      rechunkedChangedLayers: changed,
    });
    prior = next;
  }
  return steps;
}

/** A layer's identity as far as its digest goes: its components and their contents. */
function layerKey(names: readonly string[], img: ImageSummary): string {
  const fp = new Map(img.components.map((c) => [c.name, c.fingerprint]));
  return [...names]
    .sort()
    .map((n) => `${n}=${fp.get(n) ?? '?'}`)
    .join('\n');
}
