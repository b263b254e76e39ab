import type { ContentStore } from '../graph/content-store.js';
import { FileGraph, inodeToEntry, isDir, type Inode } from '../graph/file-graph.js';
import type { LayerPaths } from '../parents/strategy.js';
import type { TarWriteItem } from '../tar/writer.js';

export interface EntryOptions {
  /** SOURCE_DATE_EPOCH: mtimes later than this are clamped to it. */
  clampMtime?: number;
}

/**
 * The tar entries of one output layer, in byte order of their paths (parents before children).
 * Within a hardlink set the first path carries the content and the others link to it; the packer
 * guarantees the whole set is in this layer.
 */
export function* layerEntries(graph: FileGraph, store: ContentStore, layer: LayerPaths, opts: EntryOptions): Generator<TarWriteItem> {
  const paths = [...layer.files, ...layer.dirs.filter((d) => d !== '.')].sort();
  if (layer.dirs.includes('.')) paths.unshift('.');
  const firstOfSet = new Map<Inode, string>();
  for (const path of paths) {
    const node = graph.get(path);
    if (!node) throw new Error(`internal: planned path ${path} is not in the graph`);
    const entry = inodeToEntry(path, node.inode);
    if (opts.clampMtime !== undefined && (entry.mtimeSec > opts.clampMtime || (entry.mtimeSec === opts.clampMtime && entry.mtimeNsec > 0))) {
      entry.mtimeSec = opts.clampMtime;
      entry.mtimeNsec = 0;
    }
    if (!isDir(node) && node.inode.linked) {
      const first = firstOfSet.get(node.inode);
      if (first !== undefined) {
        yield { entry: { ...entry, type: 'hardlink', linkname: first, size: 0 } };
        continue;
      }
      firstOfSet.set(node.inode, path);
    }
    const content = node.inode.content;
    yield content && content.size > 0 ? { entry, body: store.read(content) } : { entry };
  }
}
