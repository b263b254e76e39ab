import type { ImageSource, ResolvedImage } from '../oci/transport.js';
import type { Progress } from '../progress.js';
import { applyLayer } from './apply-layer.js';
import type { ContentStore } from './content-store.js';
import { FileGraph } from './file-graph.js';
import { readLayers } from './read-layer.js';
import type { TreeSource } from './tree-source.js';

/**
 * Read every layer of an image, in order, into one file graph; a tree source fills it itself.
 * `afterLayer` sees the graph as each layer leaves it (--keep-base remembers the base's tree so).
 */
export async function loadImage(
  source: ImageSource | TreeSource,
  image: ResolvedImage,
  store: ContentStore,
  progress: Progress,
  afterLayer?: (index: number, graph: FileGraph) => void,
): Promise<FileGraph> {
  const graph = new FileGraph(store.contents);
  if (source.kind === 'tree') await source.loadTree(graph, store, progress);
  else
    await readLayers(source, image, progress, async (items, index, where) => {
      await applyLayer(graph, store, items, index, where);
      afterLayer?.(index, graph);
    });
  await store.flush();
  return graph;
}
