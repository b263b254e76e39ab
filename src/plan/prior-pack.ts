/**
 * Packing guided by the prior build's plan. Unchanged components stay exactly where they were:
 * a layer made only of them keeps its digest and costs nothing to update. Components that changed
 * or are new are free: the layer they were in changes anyway (moving a changed component costs
 * nothing now), so they are placed afresh by the same objective as pack.ts, into layers the
 * budget has left, or with free ones of similar volatility, or into a layer that changes anyway;
 * joining a layer that would otherwise be reused costs that layer's whole size now, and the
 * objective counts it.
 * Removed components simply leave. Order: the prior's bottom layers up to the first one that
 * changes keep their place (a chain-reusing runtime keeps them); above that everything is
 * re-ordered by stability, which costs nothing since a chain runtime re-downloads it anyway.
 * When the unchanged components alone need more layers than the budget allows, the prior plan
 * can no longer fit and the caller re-packs from scratch.
 */
import { agglomerate, gatherCoChanging, mergeGroups, orderGroups, singleton, toLayer, type Group } from './pack.js';
import type { PlanComponent, PlannedLayer, PriorPlan } from './plan-types.js';

export interface PriorPackResult {
  /** Undefined when the prior cannot fit: re-pack from scratch. */
  layers?: PlannedLayer[];
  notes: string[];
}

export function packWithPrior(
  components: readonly PlanComponent[],
  changed: ReadonlySet<string>,
  prior: PriorPlan,
  layerBudget: number,
): PriorPackResult {
  const byName = new Map(components.map((c) => [c.name, c]));
  const placed = new Set<string>();
  const fixed: Group[] = [];
  let removed = 0;
  let kept = 0;
  let firstMoved = Infinity;
  prior.layers.forEach((layer, k) => {
    const stay = layer.components.filter((n) => byName.has(n) && !changed.has(n) && !placed.has(n));
    removed += layer.components.filter((n) => !byName.has(n)).length;
    const dirty = stay.length !== layer.components.length;
    if (dirty) firstMoved = Math.min(firstMoved, k);
    if (stay.length === 0) return;
    for (const n of stay) placed.add(n);
    kept += stay.length;
    const g = stay.map((n) => singleton(byName.get(n)!)).reduce(mergeGroups);
    fixed.push({ ...g, fixed: true, clean: !dirty, priorIndex: k });
  });
  const freeComponents = components.filter((c) => !placed.has(c.name));
  const added = freeComponents.filter((c) => !changed.has(c.name)).length;
  const free = gatherCoChanging(freeComponents.map(singleton));
  const summary = `prior plan: ${kept} unchanged component(s) kept in place, ${changed.size} changed, ${added} new, ${removed} removed`;

  if (fixed.length > layerBudget) {
    return {
      notes: [
        `${summary}; its ${fixed.length} layers of unchanged components no longer fit in ${layerBudget}: re-packed from scratch`,
      ],
    };
  }
  const groups = [...fixed, ...free];
  if (!agglomerate(groups, layerBudget)) {
    return { notes: [`${summary}; it no longer fits in ${layerBudget} layers: re-packed from scratch`] };
  }
  // Bottom layers that are reproduced exactly keep their order up to the first prior layer that is not.
  for (const g of groups) if (!g.clean && g.priorIndex !== undefined) firstMoved = Math.min(firstMoved, g.priorIndex);
  const bottom = groups
    .filter((g) => g.clean && g.priorIndex! < firstMoved)
    .sort((a, b) => a.priorIndex! - b.priorIndex!);
  const rest = orderGroups(groups.filter((g) => !bottom.includes(g)));
  const reused = groups.filter((g) => g.clean).length;
  return { layers: [...bottom, ...rest].map(toLayer), notes: [`${summary}; ${reused} layer(s) unchanged`] };
}
