/**
 * A chunkah-style packing, written from chunkah's published description (coreos/chunkah; the
 * same scheme as ostree-ext's chunking.rs) to compare against: not chunkah's code.
 *
 *  0. Binary packages of one source package are one unit (chunkah groups rpms by source rpm).
 *  1. Size outliers by median absolute deviation: a component larger than median + OUTLIER_MADS
 *     x MAD gets a layer of its own (largest first, at most OUTLIER_SHARE of the budget).
 *  2. The rest fall into stability tiers by change probability (stable, medium, volatile); each
 *     tier gets layers in proportion to its bytes (at least one when it has components).
 *  3. Within a tier a component goes to layer FNV-1a(name) mod (the tier's layer count): stable
 *     across builds as long as the counts do not change, without any prior plan.
 *
 * It reads no prior plan (chunkah #39 asks for that). Layers: outliers, then tiers stable to
 * volatile; empty bins are dropped.
 */
import { byteOrder } from '../util/byte-order.js';
import { checkBudget } from './pack.js';
import type { PlanComponent, PlannedLayer } from './plan-types.js';

const OUTLIER_MADS = 2;
const OUTLIER_SHARE = 0.6;
/** Tier thresholds on the change probability per update. */
const TIERS = [0.05, 0.3];

function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function chunkahStylePack(components: readonly PlanComponent[], layerBudget: number): PlannedLayer[] {
  checkBudget(layerBudget);
  const units = bySource(components);
  const layers = packUnits(
    [...units].map(([name, members]) => ({
      name,
      size: members.reduce((s, c) => s + c.size, 0),
      changeProbability: Math.max(...members.map((c) => c.changeProbability)),
    })),
    layerBudget,
  );
  return layers.map((l) => ({
    components: l.components.flatMap((u) => units.get(u)!.map((c) => c.name)).sort(byteOrder),
    size: l.size,
  }));
}

/** Components by unit name: the group when there is one, else the component itself. */
function bySource(components: readonly PlanComponent[]): Map<string, PlanComponent[]> {
  const units = new Map<string, PlanComponent[]>();
  for (const c of components) {
    const key = c.group ?? c.name;
    const u = units.get(key);
    if (u === undefined) units.set(key, [c]);
    else u.push(c);
  }
  return units;
}

function packUnits(components: readonly PlanComponent[], layerBudget: number): PlannedLayer[] {
  const sorted = [...components].sort((a, b) => b.size - a.size || byteOrder(a.name, b.name));
  const sizes = sorted.map((c) => c.size);
  const med = median(sizes);
  const mad = median(sizes.map((s) => Math.abs(s - med)));
  const maxOutliers = Math.min(Math.floor(layerBudget * OUTLIER_SHARE), layerBudget - TIERS.length - 1);
  const outliers = sorted.filter((c) => c.size > med + OUTLIER_MADS * mad).slice(0, Math.max(0, maxOutliers));
  const isOutlier = new Set(outliers.map((c) => c.name));
  const rest = sorted.filter((c) => !isOutlier.has(c.name));

  const tiers: PlanComponent[][] = TIERS.map(() => []);
  tiers.push([]);
  for (const c of rest) {
    const tier = TIERS.findIndex((t) => c.changeProbability < t);
    tiers[tier === -1 ? TIERS.length : tier]!.push(c);
  }
  const bins = Math.max(0, layerBudget - outliers.length);
  const counts = apportion(
    tiers.map((t) => t.reduce((s, c) => s + c.size, 0)),
    tiers.map((t) => t.length),
    bins,
  );

  const layers: PlannedLayer[] = outliers.map((c) => ({ components: [c.name], size: c.size }));
  tiers.forEach((tier, i) => {
    const n = counts[i]!;
    if (n === 0) return;
    const tierBins: PlanComponent[][] = Array.from({ length: n }, () => []);
    for (const c of tier) tierBins[fnv1a32(c.name) % n]!.push(c);
    for (const b of tierBins)
      if (b.length > 0)
        layers.push({ components: b.map((c) => c.name).sort(byteOrder), size: b.reduce((s, c) => s + c.size, 0) });
  });
  return layers;
}

/** Bins per tier in proportion to bytes, at least one for a non-empty tier, largest remainder. */
function apportion(bytes: number[], members: number[], bins: number): number[] {
  const nonEmpty = members.map((m) => (m > 0 ? 1 : 0));
  const base = nonEmpty.reduce<number>((s, x) => s + x, 0);
  if (bins <= base) return members.map((m, i) => (m > 0 && i < bins ? 1 : 0));
  const total = bytes.reduce((s, x) => s + x, 0) || 1;
  const extra = bins - base;
  const want = bytes.map((b) => (b / total) * extra);
  const counts = want.map((w, i) => nonEmpty[i]! + Math.floor(w));
  let left = bins - counts.reduce((s, x) => s + x, 0);
  const order = want.map((w, i) => [w - Math.floor(w), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    if (members[i]! > 0) {
      counts[i]!++;
      left--;
    }
  }
  return counts.map((c, i) => Math.min(c, members[i]!));
}
