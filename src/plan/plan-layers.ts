import type { Component } from '../components/types.js';
import { chunkahStylePack } from './chunkah-style.js';
import { byteOrder } from '../util/byte-order.js';
import { expectedCost, layerProbability } from './cost.js';
import { checkBudget, packFresh, round } from './pack.js';
import type { ComponentRecord, PackerName, Plan, PlanComponent, PlannedLayer, PriorPlan } from './plan-types.js';
import { packWithPrior } from './prior-pack.js';
import { changeProbability, metadataProbability, newestChangeTime, nextHistory } from './stability.js';

export interface PlanRequest {
  components: readonly Component[];
  /** Layers available to components (--max-layers less what the parent-directory strategy adds). */
  layerBudget: number;
  maxLayers: number;
  /** The plan the previous build of this image recorded, to keep components where they were. */
  prior?: PriorPlan;
  /** Content fingerprint of each component (fingerprint.ts); without them no change is observed. */
  fingerprints?: ReadonlyMap<string, string>;
  /** 'rechunker' (default); 'chunkah' and 'single' exist to measure it against. */
  packer?: PackerName;
}

/**
 * The planner's one entry point: pure, deterministic, no I/O. Estimates each component's change
 * probability (stability.ts), learns from the prior plan which components changed, packs, and
 * records what the next build needs.
 */
export function planLayers(req: PlanRequest): Plan {
  checkBudget(req.layerBudget);
  const packer = req.packer ?? 'rechunker';
  const now = newestChangeTime(req.components);
  const priorRecords = req.prior?.components;
  const fps = req.fingerprints;
  const rebuild = isRebuild(req.components, priorRecords, fps);

  const planComponents = new Map<string, PlanComponent>();
  const estimates = new Map<string, number>();
  const records: Record<string, ComponentRecord> = {};
  const changed = new Set<string>();
  for (const c of [...req.components].sort((a, b) => byteOrder(a.name, b.name))) {
    const estimate = metadataProbability(c, now);
    const prior = priorRecords?.[c.name];
    const fp = fps?.get(c.name);
    const history = nextHistory(prior, fp, rebuild);
    const p = changeProbability(estimate, history);
    if (prior?.fingerprint && fp !== undefined && prior.fingerprint !== fp) changed.add(c.name);
    estimates.set(c.name, estimate);
    planComponents.set(c.name, {
      name: c.name,
      size: c.size,
      changeProbability: p,
      history,
      ...(c.group === undefined ? {} : { group: c.group }),
    });
    records[c.name] = { fingerprint: fp ?? '', size: c.size, changeProbability: round(p), history };
  }
  const comps = [...planComponents.values()];

  const notes: string[] = [];
  let layers: PlannedLayer[];
  if (packer === 'single') {
    layers =
      comps.length === 0 ? [] : [{ components: comps.map((c) => c.name), size: comps.reduce((s, c) => s + c.size, 0) }];
  } else if (packer === 'chunkah') {
    // chunkah knows changelogs, not the prior image.
    layers = chunkahStylePack(
      comps.map((c) => ({ ...c, changeProbability: estimates.get(c.name)! })),
      req.layerBudget,
    );
    if (req.prior) notes.push('chunkah-style packing reads no prior plan');
  } else if (req.prior) {
    const r = packWithPrior(comps, changed, req.prior, req.layerBudget);
    notes.push(...r.notes);
    layers = r.layers ?? packFresh(comps, req.layerBudget);
  } else {
    layers = packFresh(comps, req.layerBudget);
  }
  for (const l of layers) l.changeProbability = round(layerProbability(l.components, planComponents));
  const { cost, lowerBound } = expectedCost(layers, planComponents);
  return {
    version: 2,
    maxLayers: req.maxLayers,
    layers,
    components: records,
    packer,
    expectedCost: Math.round(cost),
    expectedLowerBound: Math.round(lowerBound),
    notes,
  };
}

/** Every component present before and after with the same fingerprint: the same image again. */
function isRebuild(
  components: readonly Component[],
  prior: Record<string, ComponentRecord> | undefined,
  fps: ReadonlyMap<string, string> | undefined,
): boolean {
  if (prior === undefined || fps === undefined) return false;
  if (Object.keys(prior).length !== components.length) return false;
  return components.every((c) => prior[c.name] !== undefined && prior[c.name]!.fingerprint === fps.get(c.name));
}
