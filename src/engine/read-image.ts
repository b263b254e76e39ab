import { detectComponents } from '../components/detect.js';
import type { Component } from '../components/types.js';
import type { ContentStore } from '../graph/content-store.js';
import type { FileGraph } from '../graph/file-graph.js';
import { GraphTreeView } from '../components/graph-tree-view.js';
import { loadImage } from '../graph/load-image.js';
import type { TreeSource } from '../graph/tree-source.js';
import {
  type SnapshotOptions,
  snapshotTree,
  type TreeDelta,
  treeDelta,
  type TreeSnapshot,
} from '../graph/tree-snapshot.js';
import type { ImageSource, ResolvedImage } from '../oci/transport.js';
import type { Platform } from '../oci/types.js';
import type { Progress } from '../progress.js';
import { type BaseImage, sharedBaseLayers } from './keep-base.js';

/** An image read and understood: its flattened tree and the components that own its files. */
export interface FlattenedImage {
  image: ResolvedImage;
  graph: FileGraph;
  components: Component[];
  warnings: string[];
  /** With a base: how many of its layers stay as they are, and what the tree changes above them. */
  above?: { keptLayers: number; delta: TreeDelta };
}

export interface ReadOptions {
  /** Changes to the tree before components are found (--prune, xattrs left out); returns warnings. */
  editTree?: (graph: FileGraph) => string[];
  /** --keep-base: the image whose bottom layers are kept, and how trees are compared with it. */
  base?: { image: BaseImage; compare: SnapshotOptions };
  /** The source already resolved for this platform (a registry is not asked twice). */
  image?: ResolvedImage;
}

/** The stages every command that looks inside an image shares: resolve, flatten, find components. */
export async function readImage(
  source: ImageSource | TreeSource,
  platform: Platform,
  store: ContentStore,
  progress: Progress,
  opts: ReadOptions = {},
): Promise<FlattenedImage> {
  let image = opts.image;
  if (image === undefined) {
    progress.phase(`resolving ${source.name}`);
    image = await source.resolve(platform);
  }
  let kept: { layers: number; snapshot: TreeSnapshot } | undefined;
  let afterLayer: ((index: number, graph: FileGraph) => void) | undefined;
  const base = opts.base;
  if (base && source.kind === 'tree') {
    // A root filesystem has no layers to share: the whole base is kept, and the tree is compared
    // with the base's flattened layers.
    progress.phase(`reading the base ${base.image.ref}`);
    const baseGraph = await loadImage(base.image.source, base.image.resolved, store, progress);
    kept = { layers: base.image.resolved.manifest.layers.length, snapshot: snapshotTree(baseGraph, base.compare) };
  } else if (base) {
    const layers = sharedBaseLayers(source.name, image, base.image);
    afterLayer = (index, graph) => {
      if (index === layers - 1) kept = { layers, snapshot: snapshotTree(graph, base.compare) };
    };
  }
  const graph = await loadImage(source, image, store, progress, afterLayer);
  const edited = opts.editTree?.(graph) ?? [];
  progress.phase('finding components');
  const { components, warnings } = await detectComponents(new GraphTreeView(graph, store), {});
  warnings.unshift(...edited);
  for (const w of warnings) progress.warn(w);
  const above = kept && { keptLayers: kept.layers, delta: treeDelta(kept.snapshot, graph, base?.compare) };
  return { image, graph, components, warnings, ...(above ? { above } : {}) };
}
