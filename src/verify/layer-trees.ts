import type { Progress } from '../progress.js';
import { applyLayer } from '../graph/apply-layer.js';
import type { ContentStore } from '../graph/content-store.js';
import { FileGraph, impliedDir, isDir, type DirNode } from '../graph/file-graph.js';
import { readLayers } from '../graph/read-layer.js';
import { AUFS_META_PREFIX, OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from '../oci/whiteout.js';
import type { ImageSource, ResolvedImage } from '../oci/transport.js';
import type { TarReadItem } from '../tar/reader.js';

/**
 * One layer unpacked into its own directory, as an overlay unpacker leaves it: its entries, the
 * directories it only implies (`implied` on the DirNode: made with default metadata), and its
 * whiteouts, kept (they hide what lies below when the layers are merged).
 */
export interface LayerTree {
  graph: FileGraph;
  /** Paths this layer deletes from the layers below (`.wh.NAME`). */
  whiteouts: Set<string>;
  /** Directories this layer makes opaque (`.wh..wh..opq`): nothing below shows through. */
  opaque: Set<string>;
}

/** Read a layer's entries into a LayerTree of its own; contents go to the shared store. */
export async function layerTree(
  items: AsyncIterable<TarReadItem>,
  store: ContentStore,
  index: number,
  where: string,
): Promise<LayerTree> {
  const tree: LayerTree = { graph: new FileGraph(store.contents), whiteouts: new Set(), opaque: new Set() };
  const marks: string[] = [];
  async function* withoutWhiteouts(): AsyncGenerator<TarReadItem> {
    for await (const item of items) {
      const p = item.entry.path;
      const slash = p.lastIndexOf('/');
      const base = p.slice(slash + 1);
      if (!base.startsWith(WHITEOUT_PREFIX)) {
        yield item;
        continue;
      }
      const dir = slash < 0 ? '' : p.slice(0, slash);
      marks.push(dir);
      if (base === OPAQUE_WHITEOUT) tree.opaque.add(dir === '' ? '.' : dir);
      else if (!base.startsWith(AUFS_META_PREFIX))
        tree.whiteouts.add(
          dir === '' ? base.slice(WHITEOUT_PREFIX.length) : `${dir}/${base.slice(WHITEOUT_PREFIX.length)}`,
        );
    }
  }
  await applyLayer(tree.graph, store, withoutWhiteouts(), index, where);
  // A whiteout is a file in its directory too: the directory exists in this layer.
  for (const dir of marks) impliedDirs(tree.graph, dir, index);
  return tree;
}

function impliedDirs(graph: FileGraph, dirPath: string, layer: number): void {
  let dir: DirNode = graph.root;
  if (dirPath === '') return;
  for (const part of dirPath.split('/')) {
    const next = dir.children.get(part);
    if (next && isDir(next)) {
      dir = next;
      continue;
    }
    if (next) return; // a non-directory of this same layer: the whiteout names nothing
    const made = impliedDir(part, dir, layer);
    dir.children.set(part, made);
    dir = made;
  }
}

/** Every layer of an image, each in its own tree, checked against its diff_id. */
export async function readLayerTrees(
  source: ImageSource,
  image: ResolvedImage,
  store: ContentStore,
  progress: Progress,
): Promise<LayerTree[]> {
  const trees = await readLayers(source, image, progress, (items, index, where) =>
    layerTree(items, store, index, where),
  );
  await store.flush();
  return trees;
}
