import type { Component } from '../components/types.js';
import { packComponents } from './pack.js';
import type { Plan } from './plan.js';

export interface PlanRequest {
  components: readonly Component[];
  /** Layers available to components (--max-layers less what the parent-directory strategy adds). */
  layerBudget: number;
  maxLayers: number;
  /** The plan the previous build of this image recorded, to keep components where they were. */
  prior?: Plan;
}

const VOLATILE_KINDS = new Set(['pkgdb', 'unclaimed']);

/** The planner's one entry point: pure, deterministic, no I/O. */
export function makePlan(req: PlanRequest): Plan {
  return packComponents(
    req.components.map((c) => ({ name: c.name, size: c.size, volatile: VOLATILE_KINDS.has(c.kind) })),
    req.layerBudget,
    req.maxLayers,
  );
}
