import { COMPONENTS_ANNOTATION, PLAN_LABEL } from '../assemble/assemble-image.js';
import { RechunkerError } from '../errors.js';
import type { ImageConfig, Manifest, Platform } from '../oci/types.js';
import { SKELETON_LAYER } from '../parents/strategy.js';
import { openSource, type TransportOptions } from './open-reference.js';
import type { PlannedLayer, PriorPlan } from '../plan/plan-types.js';

/**
 * The plan a previous rechunked image recorded: its config label (version 2, or version 1 with
 * layers only), else the per-layer `dev.rechunker.components` annotations (a version-1 view).
 */
export async function readPriorPlan(ref: string, platform: Platform, transport?: TransportOptions): Promise<PriorPlan> {
  const source = await openSource(ref, transport);
  try {
    const { config, manifest } = await source.resolve(platform);
    return priorFromImage(ref, config, manifest);
  } finally {
    await source.close();
  }
}

/**
 * The prior for a build that names none: the image DESTINATION already holds, when it is a
 * rechunked one. A missing tag, layout or label is silently no prior; another failure is a reason
 * to go without one, returned so the caller can say so.
 */
export async function findPriorPlan(ref: string, platform: Platform, transport?: TransportOptions): Promise<{ plan?: PriorPlan; warning?: string }> {
  try {
    return { plan: await readPriorPlan(ref, platform, transport) };
  } catch (err) {
    // Nothing there, or a destination the write itself will report as unusable (or refusing us).
    if (err instanceof RechunkerError && (err.code === 'NOT_FOUND' || err.code === 'IO' || err.code === 'AUTH')) return {};
    return { warning: `${ref}: not used as the prior plan (${(err as Error).message})` };
  }
}

/** Pure part of readPriorPlan: the plan from an image's config and manifest. */
function priorFromImage(ref: string, config: ImageConfig, manifest: Manifest): PriorPlan {
  const label = config.config?.Labels?.[PLAN_LABEL];
  if (label) return parsePlanLabel(ref, label);
  const layers: PlannedLayer[] = [];
  for (const l of manifest.layers) {
    const names = l.annotations?.[COMPONENTS_ANNOTATION];
    if (names === undefined) continue;
    const components = names.split(',').filter((n) => n !== '');
    if (components.length === 0 || (components.length === 1 && components[0] === SKELETON_LAYER)) continue;
    layers.push({ components, size: 0 });
  }
  if (layers.length === 0) throw new RechunkerError('NOT_FOUND', `${ref}: not a rechunked image (no ${PLAN_LABEL} label, no ${COMPONENTS_ANNOTATION} annotations)`);
  return { version: 1, maxLayers: manifest.layers.length, layers };
}

export function parsePlanLabel(ref: string, label: string): PriorPlan {
  let plan: Partial<PriorPlan> & { version?: unknown };
  try {
    plan = JSON.parse(label) as typeof plan;
  } catch {
    throw new RechunkerError('BAD_MANIFEST', `${ref}: the ${PLAN_LABEL} label is not valid JSON`);
  }
  if ((plan.version !== 1 && plan.version !== 2) || !Array.isArray(plan.layers) || !plan.layers.every((l) => Array.isArray(l?.components))) {
    throw new RechunkerError('BAD_MANIFEST', `${ref}: unsupported plan version ${String(plan.version)} in the ${PLAN_LABEL} label`);
  }
  const out: PriorPlan = { version: plan.version, maxLayers: Number(plan.maxLayers) || 0, layers: plan.layers.map((l) => ({ components: l.components.map(String), size: Number(l.size) || 0 })) };
  if (plan.version === 2 && plan.components && typeof plan.components === 'object') out.components = plan.components;
  return out;
}
