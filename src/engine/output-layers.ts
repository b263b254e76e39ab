import type { Component } from '../components/types.js';
import { type FileGraph, isDir } from '../graph/file-graph.js';
import type { TreeDelta } from '../graph/tree-snapshot.js';
import { dirsAboveBase, whiteoutLayer } from '../parents/index.js';
import type { LayerPaths, ParentDirStrategy } from '../parents/strategy.js';
import type { Plan } from '../plan/plan-types.js';

/** The layers a rechunk writes, bottom first, and what the image's directories are. */
export interface OutputLayers {
  layers: LayerPaths[];
  /** Every directory the image defines (the root as '.' when it does). */
  dirs: string[];
  /** Directories the image only implies: they stay implied in the output. */
  impliedDirs: Set<string>;
  /** Entries that are not directories. */
  files: number;
}

/**
 * The plan's layers with the strategy's directories; above a kept base (--keep-base), only the
 * directories the new layers touch, and the base's deletions as a whiteout layer right on it.
 */
export function outputLayers(
  graph: FileGraph,
  plan: Plan,
  components: readonly Component[],
  strategy: ParentDirStrategy,
  above?: TreeDelta,
): OutputLayers {
  const { dirs, impliedDirs, files } = directoriesAndFiles(graph);
  const placed = above ? dirsAboveBase(above.dirs, [...above.files, ...above.whiteouts], dirs) : dirs;
  const layers = strategy.place(layerPaths(plan, components), placed);
  if (above && above.whiteouts.length > 0) layers.unshift(whiteoutLayer(above.whiteouts, dirs));
  return { layers, dirs, impliedDirs, files };
}

/**
 * Build order: largest layers first, so the last one to finish is a small one and no core idles
 * while a big layer compresses alone (the results keep the image's order).
 */
export function largestFirst(layers: readonly LayerPaths[], components: readonly Component[]): number[] {
  const size = new Map(components.map((c) => [c.name, c.size]));
  const bytes = layers.map((l) => l.components.reduce((n, c) => n + (size.get(c) ?? 0), 0));
  return layers.map((_, i) => i).sort((a, b) => bytes[b]! - bytes[a]! || a - b);
}

function layerPaths(plan: Plan, components: readonly Component[]): LayerPaths[] {
  const byName = new Map(components.map((c) => [c.name, c]));
  return plan.layers.map((l) => ({
    files: l.components.flatMap((n) => byName.get(n)!.paths),
    dirs: [],
    components: l.components,
  }));
}

/**
 * Every directory the image defines (the root as '.' when it does), the ones it only implies, and
 * how many other entries there are. An implied directory has no metadata to carry: it stays implied
 * in the output, so every unpacker treats it exactly as it treats the source.
 */
function directoriesAndFiles(graph: FileGraph): { dirs: string[]; impliedDirs: Set<string>; files: number } {
  const dirs = graph.root.implied ? [] : ['.'];
  const impliedDirs = new Set<string>();
  let files = 0;
  for (const [p, node] of graph.walk()) {
    if (!isDir(node)) files++;
    else if (node.implied) impliedDirs.add(p);
    else dirs.push(p);
  }
  return { dirs, impliedDirs, files };
}

/** The result's layer figures: the largest compressed size and the median (the lower middle for an even count). */
export function sizeFigures(sizes: readonly number[]): { largestLayer: number; medianLayer: number } {
  const sorted = [...sizes].sort((a, b) => a - b);
  return { largestLayer: sorted.at(-1) ?? 0, medianLayer: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0 };
}
