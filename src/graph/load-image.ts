import type { Progress } from '../progress.js';
import { withContext } from '../errors.js';
import { shortDigest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { ImageSource, ResolvedImage } from '../oci/transport.js';
import { applyLayer } from './apply-layer.js';
import { readLayerEntries } from './read-layer.js';
import type { ContentStore } from './content-store.js';
import { FileGraph } from './file-graph.js';

/** Read every layer of an image, in order, into one file graph. */
export async function loadImage(source: ImageSource, image: ResolvedImage, store: ContentStore, progress: Progress): Promise<FileGraph> {
  const graph = new FileGraph();
  if (source.loadTree) {
    await source.loadTree(graph, store, progress);
    await store.flush();
    return graph;
  }
  const layers = image.manifest.layers;
  for (let i = 0; i < layers.length; i++) {
    const desc = layers[i]!;
    const where = `${source.name}: layer ${i + 1}/${layers.length} (${shortDigest(desc.digest)})`;
    progress.phase(`reading layer ${i + 1}/${layers.length}`);
    try {
      await readLayer(source, desc, image.config.rootfs.diff_ids[i]!, graph, store, i, where, progress);
    } catch (e) {
      throw withContext(e, where);
    }
  }
  await store.flush();
  return graph;
}

async function readLayer(source: ImageSource, desc: Descriptor, diffId: string, graph: FileGraph, store: ContentStore, index: number, where: string, progress: Progress): Promise<void> {
  let read = 0;
  await readLayerEntries(source, desc, diffId, where, (items) => applyLayer(graph, store, items, index, where), (n) => progress.advance((read += n), desc.size, 'bytes'));
}
