import { RechunkerError } from '../errors.js';
import type { ImageConfig, Manifest } from '../oci/types.js';
import { SKELETON_LAYER } from '../parents/strategy.js';
import type { Plan, PlannedLayer, PriorPlan } from './plan-types.js';

/**
 * What a rechunked image records about how it was made, and how the next build reads it back:
 * the one schema that the image writer, the planner, verify and the benchmarks share.
 *
 * - the config label PLAN_LABEL holds the plan (JSON, version 2), because labels survive every
 *   push and copy while annotations may not;
 * - each layer's COMPONENTS_ANNOTATION lists its components (a version-1 view of the plan), and
 *   its ENTRIES_ANNOTATION the digest of its entries (assemble/entries-digest.ts), by which the
 *   next build knows, before reading a byte, that it would write the same layer;
 * - the manifest's PARENT_DIRS_ANNOTATION names where directory entries went.
 *
 * The label also records how layers were compressed ("gzip:6"): with the diff_id that is what
 * says a prior layer's blob is byte for byte the one this build would write (assemble/layer-reuse.ts).
 */
export const PLAN_LABEL = 'dev.rechunker.plan';
export const COMPONENTS_ANNOTATION = 'dev.rechunker.components';
export const ENTRIES_ANNOTATION = 'dev.rechunker.entries';
export const PARENT_DIRS_ANNOTATION = 'dev.rechunker.parent-dirs';

/** What the label records besides the plan: how it was built, and the tree it holds. */
export interface BuildRecord {
  parentDirs: string;
  /** How layers were compressed ("gzip:6"). */
  compression?: string;
  /** The build's input key (engine/unchanged-input.ts). */
  input?: string;
  files?: number;
  directories?: number;
}

/**
 * The label's value. The notes describe this run (which prior, what moved), not the plan:
 * recording them would make a rebuild of identical input differ from the image it rebuilt.
 */
export function planLabelValue(plan: Plan, build: BuildRecord): string {
  const { notes: _notes, ...recorded } = plan;
  return JSON.stringify({ ...recorded, ...build });
}

/**
 * The plan a previous rechunked image recorded: its config label (version 2, or version 1 with
 * layers only), else the per-layer annotations (a version-1 view). NOT_FOUND when it has neither.
 */
export function priorFromImage(ref: string, config: ImageConfig, manifest: Manifest): PriorPlan {
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
  if (layers.length === 0) {
    const what = `no ${PLAN_LABEL} label, no ${COMPONENTS_ANNOTATION} annotations`;
    throw new RechunkerError('NOT_FOUND', `${ref}: not a rechunked image (${what})`);
  }
  return { version: 1, maxLayers: manifest.layers.length, layers };
}

export function parsePlanLabel(ref: string, label: string): PriorPlan {
  let plan: Partial<PriorPlan> & { version?: unknown; compression?: unknown; input?: unknown };
  try {
    plan = JSON.parse(label) as typeof plan;
  } catch {
    throw new RechunkerError('BAD_MANIFEST', `${ref}: the ${PLAN_LABEL} label is not valid JSON`);
  }
  const layersOk = Array.isArray(plan.layers) && plan.layers.every((l) => Array.isArray(l?.components));
  if ((plan.version !== 1 && plan.version !== 2) || !layersOk) {
    throw new RechunkerError(
      'BAD_MANIFEST',
      `${ref}: unsupported plan version ${String(plan.version)} in the ${PLAN_LABEL} label`,
    );
  }
  const out: PriorPlan = {
    version: plan.version,
    maxLayers: Number(plan.maxLayers) || 0,
    layers: plan.layers!.map((l) => ({ components: l.components.map(String), size: Number(l.size) || 0 })),
  };
  if (plan.version === 2 && plan.components && typeof plan.components === 'object') out.components = plan.components;
  if (typeof plan.compression === 'string') out.compression = plan.compression;
  if (typeof plan.input === 'string') out.input = plan.input;
  for (const k of ['files', 'directories', 'expectedCost', 'expectedLowerBound'] as const) {
    const v = plan[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}
