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
export function mergeCost(a: Group, b: Group): number {
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
 *
 * Each step merges the cheapest pair with at least one candidate (CandidateOrder) in it, ties
 * broken by the pair's names. A merge changes two groups only, so each candidate keeps its
 * cheapest partners from step to step and meets only the merged group; only a candidate that ran
 * out of partners, or that just became one, looks at every group again. Looking at every pair at
 * every step took 2.4 s for 1,250 components and 11 s for 2,500 (a desktop image has 2,000-3,000
 * packages); now 0.3 s and 1 s (npm run bench:pack).
 */
export function agglomerate(groups: Group[], target: number): boolean {
  // members[0] breaks ties; a merge keeps its members sorted, so sorting once here is enough.
  for (const g of groups) g.members.sort(byteOrder);
  const order = new CandidateOrder(groups);
  let candidates = order.candidates(groups);
  /** Per candidate, its cheapest partners, each as the first of the pair. */
  const best = new Map<Group, Partners>();
  for (const j of candidates) best.set(j, partnersOf(groups, j));
  for (;;) {
    let pick: Pair | undefined;
    for (const j of candidates) {
      const p = best.get(j)!.list[0];
      if (p && (pick === undefined || pairLess(p, pick, groups))) pick = p;
    }
    if (pick === undefined) return groups.length <= target;
    // Within the budget, merge only while a merge saves (layer overheads of co-changing layers).
    if (groups.length <= target && pick.cost >= 0) return true;
    const { i: a, j: b } = pick;
    const ia = groups.indexOf(a);
    const ib = groups.indexOf(b);
    const merged = mergeGroups(a, b);
    groups.splice(Math.max(ia, ib), 1);
    groups.splice(Math.min(ia, ib), 1, merged);
    order.remove(a);
    order.remove(b);
    order.insert(merged);
    const next = order.candidates(groups);
    for (const j of [...best.keys()]) if (!next.has(j)) best.delete(j);
    for (const j of next) {
      const ps = best.get(j);
      if (ps === undefined) {
        best.set(j, partnersOf(groups, j));
        continue;
      }
      ps.list = ps.list.filter((p) => p.i !== a && p.i !== b);
      if (!(merged.fixed && j.fixed)) offer(ps, { i: merged, j, cost: mergeCost(merged, j) }, groups);
      if (ps.list.length === 0 && !ps.all) best.set(j, partnersOf(groups, j));
    }
    candidates = next;
  }
}

/** Partners kept per candidate: enough that one merged away seldom sends it through every group. */
const PARTNERS = 8;

/**
 * A candidate's cheapest partners, cheapest first. Every group not in the list is dearer than its
 * last; `all` says the list holds every group it may merge with.
 */
interface Partners {
  list: Pair[];
  all: boolean;
}

/** A merge as the step loop weighs it: `i` first (mergeCost and mergeGroups take it first). */
interface Pair {
  i: Group;
  j: Group;
  cost: number;
}

/** The cheapest partners of candidate `j`, over every group. */
function partnersOf(groups: readonly Group[], j: Group): Partners {
  const ps: Partners = { list: [], all: true };
  for (const i of groups) if (i !== j && !(i.fixed && j.fixed)) offer(ps, { i, j, cost: mergeCost(i, j) }, groups);
  return ps;
}

/** Take `p` into the list when it is known to be among the cheapest, keeping PARTNERS at most. */
function offer(ps: Partners, p: Pair, groups: readonly Group[]): void {
  const n = ps.list.length;
  if (!ps.all && (n === 0 || !pairLess(p, ps.list[n - 1]!, groups))) return;
  let at = n;
  while (at > 0 && pairLess(p, ps.list[at - 1]!, groups)) at--;
  ps.list.splice(at, 0, p);
  if (ps.list.length > PARTNERS) {
    ps.list.pop();
    ps.all = false;
  }
}

/**
 * Cheaper first, then by the pair's names in byte order, so equal costs never depend on array
 * order; a pair met both ways round (both are candidates) is taken with its earlier group first.
 */
function pairLess(p: Pair, q: Pair, groups: readonly Group[]): boolean {
  if (p.cost !== q.cost) return p.cost < q.cost;
  const [p1, p2] = sortedNames(p);
  const [q1, q2] = sortedNames(q);
  if (p1 !== q1) return p1 < q1;
  if (p2 !== q2) return p2 < q2;
  return groups.indexOf(p.i) < groups.indexOf(q.i);
}

function sortedNames(p: Pair): [string, string] {
  const a = p.i.members[0]!;
  const b = p.j.members[0]!;
  return a < b ? [a, b] : [b, a];
}

/**
 * The groups in the two orders candidates are drawn from, kept sorted as groups come and go:
 * the smallest, and those least likely to cost a download (P x S), each ties by name.
 */
class CandidateOrder {
  private readonly bySize: Group[];
  private readonly byRisk: Group[];

  constructor(groups: readonly Group[]) {
    this.bySize = [...groups].sort(sizeOrder);
    this.byRisk = [...groups].sort(riskOrder);
  }

  /** Every group up to ALL_PAIRS_UP_TO of them, else the first CANDIDATES of each order. */
  candidates(groups: readonly Group[]): Set<Group> {
    if (groups.length <= ALL_PAIRS_UP_TO) return new Set(groups);
    return new Set([...this.bySize.slice(0, CANDIDATES), ...this.byRisk.slice(0, CANDIDATES)]);
  }

  insert(g: Group): void {
    insertSorted(this.bySize, g, sizeOrder);
    insertSorted(this.byRisk, g, riskOrder);
  }

  remove(g: Group): void {
    this.bySize.splice(this.bySize.indexOf(g), 1);
    this.byRisk.splice(this.byRisk.indexOf(g), 1);
  }
}

const sizeOrder = (a: Group, b: Group): number => a.size - b.size || byteOrder(a.members[0]!, b.members[0]!);
const riskOrder = (a: Group, b: Group): number =>
  prob(a) * a.size - prob(b) * b.size || byteOrder(a.members[0]!, b.members[0]!);

function insertSorted(list: Group[], g: Group, order: (a: Group, b: Group) => number): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order(list[mid]!, g) < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, g);
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
