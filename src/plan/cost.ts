/**
 * The objective every packer here is judged by. A layer keeps its digest only when its component
 * set and every file in it are unchanged, so with independent components (the members of one
 * group, a source package's binaries, count once: they change together)
 *
 *   P(layer changes) = 1 - prod(1 - p_c)          expected download = sum P(layer) x size(layer)
 *
 * Sizes are uncompressed bytes; gzip shrinks an OS tree to about COMPRESSED_RATIO of that, roughly
 * evenly, so the ratio scales the figures without changing any decision.
 */
import type { PlanComponent, PlannedLayer } from './plan-types.js';

/** Compressed / uncompressed for a gzip'd OS tree (the Debian corpus: 84.7 MB of 209 MB, 0.40). */
export const COMPRESSED_RATIO = 0.4;

/**
 * P(the layer changes) for its members: members of one group (PlanComponent.group) change
 * together, so a group counts once with its largest p; groups and lone components are independent.
 */
export function layerProbability(members: readonly string[], components: ReadonlyMap<string, PlanComponent>): number {
  const byGroup = new Map<string, number>();
  for (const n of members) {
    const c = components.get(n);
    if (c === undefined) continue;
    const key = c.group ?? `\0${n}`;
    byGroup.set(key, Math.max(byGroup.get(key) ?? 0, c.changeProbability));
  }
  let keep = 1;
  for (const p of byGroup.values()) keep *= 1 - p;
  return 1 - keep;
}

/** Expected bytes downloaded per update by blob reuse, and the one-layer-per-component bound. */
export function expectedCost(
  layers: readonly PlannedLayer[],
  components: ReadonlyMap<string, PlanComponent>,
): { cost: number; lowerBound: number } {
  let cost = 0;
  let lowerBound = 0;
  for (const l of layers) {
    cost += layerProbability(l.components, components) * l.size;
    for (const n of l.components) {
      const c = components.get(n);
      if (c) lowerBound += c.changeProbability * c.size;
    }
  }
  return { cost, lowerBound };
}

/**
 * Sort key for layer order, bottom first. Moby reuses a layer only when every layer below it is
 * reused too; exchanging two adjacent layers A, B shows A belongs below B exactly when
 * P_A / ((1 - P_A) S_A) < P_B / ((1 - P_B) S_B): stable and large at the bottom, volatile and
 * small on top.
 */
export function chainKey(p: number, size: number): number {
  return p / Math.max(1e-9, 1 - p) / Math.max(1, size);
}

/** Builds of evidence a co-change index is shrunk by (see coChange). */
const CO_CHANGE_PSEUDO = 1;

/**
 * Components that changed in the same builds tend to change together again (distributions ship
 * updates in batches; hhd-dev/rechunk groups packages by their weekly change vectors for this
 * reason). Two layers' correlation is the Jaccard index of their change vectors (a layer's vector
 * is the OR of its components', aligned on the newest build), and the union's probability is
 * interpolated between fully dependent (the larger P) and independent. The index is shrunk by
 * CO_CHANGE_PSEUDO builds: one update that touched both is weak evidence (a Debian point release
 * bundles unrelated security fixes), and treating it as certainty packs unrelated components
 * together for good.
 */
export function coChange(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let both = 0;
  let either = 0;
  for (let i = 1; i <= n; i++) {
    const x = a.charCodeAt(a.length - i) === 49;
    const y = b.charCodeAt(b.length - i) === 49;
    if (x && y) both++;
    if (x || y) either++;
  }
  return either === 0 ? 0 : both / (either + CO_CHANGE_PSEUDO);
}

export function unionProbability(pa: number, pb: number, rho: number): number {
  return rho * Math.max(pa, pb) + (1 - rho) * (pa + pb - pa * pb);
}

/** OR of two change vectors, aligned on the newest build. */
export function orHistory(a: string, b: string): string {
  const n = Math.max(a.length, b.length);
  let out = '';
  for (let i = n; i >= 1; i--) {
    const x = a.length >= i && a.charCodeAt(a.length - i) === 49;
    const y = b.length >= i && b.charCodeAt(b.length - i) === 49;
    out += x || y ? '1' : '0';
  }
  return out;
}

/**
 * What one more changed layer costs beyond its bytes (a request and its round trips, manifest
 * entries, tar and gzip framing), in bytes: merging two layers that mostly change together saves
 * it, so tiny or co-changing components share a layer even when the budget has room.
 */
export const LAYER_OVERHEAD = 256 * 1024;
