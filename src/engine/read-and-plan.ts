import type { ContentStore } from '../graph/content-store.js';
import type { Platform } from '../oci/types.js';
import { fingerprintComponents } from '../plan/fingerprint.js';
import { makePlan } from '../plan/plan-layers.js';
import { layerCountWarning } from '../plan/pack.js';
import type { PackerName, Plan, PriorPlan } from '../plan/plan-types.js';
import type { ImageSource } from '../oci/transport.js';
import { analyzeImage, type Analysis } from './read-image.js';
import type { Progress } from '../progress.js';

export interface PlanningOptions {
  maxLayers: number;
  /** Layers the parent-directory strategy adds on top of the component layers. */
  extraLayers: number;
  prior?: PriorPlan;
  packer?: PackerName;
}

export interface PlannedAnalysis extends Analysis {
  plan: Plan;
}

/**
 * What `rechunk` and `plan` share: analyze the image, fingerprint its components, plan them. Each
 * warning (the analysis's, a large --max-layers) is reported once on `progress` and kept in
 * `warnings`; how the prior was used is a note (it is in the plan's notes too).
 */
export async function analyzeAndPlan(source: ImageSource, platform: Platform, store: ContentStore, progress: Progress, opts: PlanningOptions): Promise<PlannedAnalysis> {
  const analysis = await analyzeImage(source, platform, store, progress);
  const plan = makePlan({
    components: analysis.components,
    layerBudget: opts.maxLayers - opts.extraLayers,
    maxLayers: opts.maxLayers,
    fingerprints: fingerprintComponents(analysis.graph, analysis.components),
    packer: opts.packer ?? 'ours',
    ...(opts.prior ? { prior: opts.prior } : {}),
  });
  const tooManyLayers = layerCountWarning(opts.maxLayers);
  if (tooManyLayers) {
    progress.warn(tooManyLayers);
    analysis.warnings.push(tooManyLayers);
  }
  for (const n of plan.notes) progress.note(n);
  return { ...analysis, plan };
}
