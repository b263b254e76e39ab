import { detectComponents } from '../components/detect.js';
import type { Component } from '../components/types.js';
import type { ContentStore } from '../graph/content-store.js';
import type { FileGraph } from '../graph/file-graph.js';
import { GraphTreeView } from '../components/graph-tree-view.js';
import { loadImage } from '../graph/load-image.js';
import type { TreeSource } from '../graph/tree-source.js';
import type { ImageSource, ResolvedImage } from '../oci/transport.js';
import type { Platform } from '../oci/types.js';
import type { Progress } from '../progress.js';

/** An image read and understood: its flattened tree and the components that own its files. */
export interface FlattenedImage {
  image: ResolvedImage;
  graph: FileGraph;
  components: Component[];
  warnings: string[];
}

/** The stages every command that looks inside an image shares: resolve, flatten, find components. */
export async function readImage(
  source: ImageSource | TreeSource,
  platform: Platform,
  store: ContentStore,
  progress: Progress,
  /** Changes to the tree before components are found (--prune, xattrs left out); returns warnings. */
  editTree?: (graph: FileGraph) => string[],
): Promise<FlattenedImage> {
  progress.phase(`resolving ${source.name}`);
  const image = await source.resolve(platform);
  const graph = await loadImage(source, image, store, progress);
  const edited = editTree?.(graph) ?? [];
  progress.phase('finding components');
  const { components, warnings } = await detectComponents(new GraphTreeView(graph, store), {});
  warnings.unshift(...edited);
  for (const w of warnings) progress.warn(w);
  return { image, graph, components, warnings };
}
