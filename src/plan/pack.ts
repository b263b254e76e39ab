/**
 * Our packer: greedy agglomeration on the expected-download objective (see cost.ts). Every
 * component starts in a layer of its own, except that a group's members (a source package's
 * binaries, which change together) start in one; while there are more layers than the budget
 * allows, the two layers whose union adds the least expected download are merged:
 *
 *   delta = P(A u B)(S_A + S_B) - P_A S_A - P_B S_B = P_A S_B + P_B S_A - P_A P_B (S_A + S_B)
 *
 * so small components of similar (low) change probability end up together, a large volatile one
 * stays alone, and a volatile small one (package database) never drags a large stable one along.
 * Layers are then ordered by chainKey, most stable and largest at the bottom. Deterministic: ties
 * break by component name, never by insertion order or hashing.
 */
import { RechunkerError } from '../errors.js';
import { byteOrder } from '../util/byte-order.js';
import { chainKey, coChange, LAYER_OVERHEAD, orHistory, unionProbability } from './cost.js';
import type { PlanComponent, PlannedLayer } from './plan-types.js';

/** A layer being formed. */
export interface Group {
  members: string[];
  size: number;
  /** prod(1 - p) over members: the probability that the layer keeps its digest. */
  keep: number;
  /** Holds components kept in place from the prior plan: two fixed groups never merge. */
  fixed: boolean;
  /** A fixed layer identical to the prior's: adding to it costs its re-download now. */
  clean: boolean;
  /** Position of the prior layer it continues. */
  priorIndex?: number;
  /** Change vector: OR of the members' histories. */
  history: string;
  /** The co-change group (PlanComponent.group) every member belongs to; undefined when mixed. */
  key?: string;
}

export function singleton(c: PlanComponent): Group {
  const g: Group = {
    members: [c.name],
    size: c.size,
    keep: 1 - c.changeProbability,
    fixed: false,
    clean: false,
    history: c.history ?? '',
  };
  if (c.group !== undefined) g.key = c.group;
  return g;
}

const prob = (g: Group): number => 1 - g.keep;

function unionOf(a: Group, b: Group): number {
  const rho = a.key !== undefined && a.key === b.key ? 1 : coChange(a.history, b.history);
  return unionProbability(prob(a), prob(b), rho);
}

/** One group of `a` and `b`; the caller decides whether it stays fixed or clean. */
export function mergeGroups(a: Group, b: Group): Group {
  const merged: Group = {
    members: [...a.members, ...b.members].sort(byteOrder),
    size: a.size + b.size,
    keep: 1 - unionOf(a, b),
    fixed: a.fixed || b.fixed,
    clean: false,
    history: orHistory(a.history, b.history),
  };
  const priorIndex = a.priorIndex ?? b.priorIndex;
  if (priorIndex !== undefined) merged.priorIndex = priorIndex;
  if (a.key !== undefined && a.key === b.key) merged.key = a.key;
  return merged;
}

/**
 * Free groups of the same co-change group become one: they change together, so a layer of their
 * own each would only add layers. Order is kept (first member's position).
 */
export function gatherCoChanging(free: readonly Group[]): Group[] {
  const out: Group[] = [];
  const byKey = new Map<string, number>();
  for (const g of free) {
    const at = g.key === undefined ? undefined : byKey.get(g.key);
    if (at !== undefined) out[at] = mergeGroups(out[at]!, g);
    else {
      if (g.key !== undefined) byKey.set(g.key, out.length);
      out.push(g);
    }
  }
  return out;
}

/** Expected bytes per update the merge adds (negative when it saves layer overheads). */
function mergeCost(a: Group, b: Group): number {
  const pa = prob(a);
  const pb = prob(b);
  const pu = unionOf(a, b);
  const future =
    pu * (a.size + b.size + LAYER_OVERHEAD) - pa * (a.size + LAYER_OVERHEAD) - pb * (b.size + LAYER_OVERHEAD);
  return future + (a.clean ? a.size : 0) + (b.clean ? b.size : 0);
}

/** Pairs examined per step: every pair up to this many groups, else these cheapest candidates. */
const ALL_PAIRS_UP_TO = 160;
const CANDIDATES = 64;

/**
 * Merge groups until at most `target` remain. Returns false when that is impossible because the
 * remaining groups are all fixed (the prior plan no longer fits).
 */
export function agglomerate(groups: Group[], target: number): boolean {
  // members[0] breaks ties; a merge keeps its members sorted, so sorting once here is enough.
  for (const g of groups) g.members.sort(byteOrder);
  for (;;) {
    const candidates = candidateIndexes(groups);
    let best: { i: number; j: number; cost: number } | undefined;
    for (let i = 0; i < groups.length; i++) {
      for (const j of candidates) {
        if (j === i || (groups[i]!.fixed && groups[j]!.fixed)) continue;
        const cost = mergeCost(groups[i]!, groups[j]!);
        if (best === undefined || cost < best.cost || (cost === best.cost && pairBefore(groups, i, j, best.i, best.j)))
          best = { i, j, cost };
      }
    }
    if (best === undefined) return groups.length <= target;
    // Within the budget, merge only while a merge saves (layer overheads of co-changing layers).
    if (groups.length <= target && best.cost >= 0) return true;
    const merged = mergeGroups(groups[best.i]!, groups[best.j]!);
    groups.splice(Math.max(best.i, best.j), 1);
    groups.splice(Math.min(best.i, best.j), 1, merged);
  }
}

function candidateIndexes(groups: Group[]): number[] {
  const all = groups.map((_, i) => i);
  if (groups.length <= ALL_PAIRS_UP_TO) return all;
  const bySize = [...all].sort(
    (a, b) => groups[a]!.size - groups[b]!.size || byteOrder(groups[a]!.members[0]!, groups[b]!.members[0]!),
  );
  const byRisk = [...all].sort(
    (a, b) =>
      prob(groups[a]!) * groups[a]!.size - prob(groups[b]!) * groups[b]!.size ||
      byteOrder(groups[a]!.members[0]!, groups[b]!.members[0]!),
  );
  return [...new Set([...bySize.slice(0, CANDIDATES), ...byRisk.slice(0, CANDIDATES)])].sort((a, b) => a - b);
}

/** Tie-break on the pair's names in byte order, so equal costs never depend on array order. */
function pairBefore(groups: Group[], i: number, j: number, bi: number, bj: number): boolean {
  const key = (x: number, y: number): [string, string] => {
    const a = groups[x]!.members[0]!;
    const b = groups[y]!.members[0]!;
    return a < b ? [a, b] : [b, a];
  };
  const [a1, a2] = key(i, j);
  const [b1, b2] = key(bi, bj);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}

export function checkBudget(layerBudget: number): void {
  if (!Number.isInteger(layerBudget) || layerBudget < 1) {
    throw new RechunkerError('USAGE', `a budget of ${layerBudget} layers leaves no layer for files`);
  }
}

/** The layer's changeProbability is planLayers's to set, the same way for every packer. */
export function toLayer(g: Group): PlannedLayer {
  return { components: [...g.members].sort(byteOrder), size: g.size };
}

export const round = (p: number): number => Math.round(p * 1e4) / 1e4;

/** Bottom first: chainKey ascending, then larger first, then by name. */
export function orderGroups(groups: Group[]): Group[] {
  return [...groups].sort(
    (a, b) =>
      chainKey(prob(a), a.size) - chainKey(prob(b), b.size) ||
      b.size - a.size ||
      byteOrder(a.members[0]!, b.members[0]!),
  );
}

/**
 * A plan from nothing: components into at most `layerBudget` layers. None is held empty for
 * components a later build adds: that build puts them with layers that change in it anyway (a
 * changed component's layer is re-downloaded regardless), at no extra download, while a layer
 * held empty now costs co-packing today.
 */
export function packFresh(components: readonly PlanComponent[], layerBudget: number): PlannedLayer[] {
  checkBudget(layerBudget);
  const sorted = [...components].sort((a, b) => byteOrder(a.name, b.name));
  const groups = gatherCoChanging(sorted.map(singleton));
  agglomerate(groups, layerBudget);
  return orderGroups(groups).map(toLayer);
}
