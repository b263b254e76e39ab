import { RechunkerError } from '../errors.js';
import type { Plan, PlanComponent, PlannedLayer } from './plan.js';

export const MIN_LAYERS = 2;
export const MAX_LAYERS = 500;

/**
 * Pack components into at most `layerBudget` layers, never splitting one. Volatile components get
 * layers of their own at the top, so their frequent changes never drag stable content into a
 * re-download; the rest are balanced by size, largest first into the emptiest layer (LPT).
 * Deterministic: ties break by name.
 */
export function packComponents(components: readonly PlanComponent[], layerBudget: number, maxLayers: number): Plan {
  if (!Number.isInteger(layerBudget) || layerBudget < 1) {
    throw new RechunkerError('USAGE', `no layer left for files: --max-layers must be at least ${MIN_LAYERS}`);
  }
  const bySize = [...components].sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const volatile = bySize.filter((c) => c.volatile);
  const stable = bySize.filter((c) => !c.volatile);

  // Volatile components on their own layers only while that leaves stable content a layer.
  const volatileLayers = stable.length === 0 ? Math.min(volatile.length, layerBudget) : Math.min(volatile.length, layerBudget - 1);
  const stableLayers = layerBudget - volatileLayers;
  const bottom = balance(stable, stableLayers);
  const top = balance(volatile, volatileLayers);
  if (volatileLayers === 0 && volatile.length > 0) {
    // No room for them alone: they share the smallest stable layer.
    for (const c of volatile) addTo(smallest(bottom), c);
  }
  const layers = [...bottom, ...top].filter((l) => l.components.length > 0);
  for (const l of layers) l.components.sort();
  return { version: 1, maxLayers, layers };
}

function balance(components: readonly PlanComponent[], bins: number): PlannedLayer[] {
  if (bins <= 0) return [];
  if (components.length <= bins) return components.map((c) => ({ components: [c.name], size: c.size }));
  const layers: PlannedLayer[] = Array.from({ length: bins }, () => ({ components: [], size: 0 }));
  for (const c of components) addTo(smallest(layers), c);
  // Largest layer at the bottom: the order no longer depends on insertion accidents.
  return layers.sort((a, b) => b.size - a.size || (a.components[0]! < b.components[0]! ? -1 : 1));
}

function smallest(layers: PlannedLayer[]): PlannedLayer {
  let best = layers[0]!;
  for (const l of layers) if (l.size < best.size) best = l;
  return best;
}

function addTo(layer: PlannedLayer, c: PlanComponent): void {
  layer.components.push(c.name);
  layer.size += c.size;
}
