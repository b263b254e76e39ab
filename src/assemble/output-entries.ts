import type { ContentStore } from '../graph/content-store.js';
import { type FileGraph, inodeToEntry, isDir, type Inode } from '../graph/file-graph.js';
import type { LayerPaths } from '../parents/strategy.js';
import { newEntry } from '../tar/entry.js';
import type { TarWriteItem } from '../tar/writer.js';
import { WHITEOUT_PREFIX } from '../oci/whiteout.js';

/** A layer's entry, with the sha256 of its body: what entries-digest.ts needs without reading it. */
export interface LayerItem extends TarWriteItem {
  contentDigest?: string;
}

export interface EntryOptions {
  /** SOURCE_DATE_EPOCH: mtimes later than this are clamped to it. */
  clampMtime?: number;
  /** --dir-mtime clamp: every directory gets exactly this mtime (after clampMtime). */
  dirMtime?: number;
}

/**
 * The tar entries of one output layer, in byte order of their paths (parents before children).
 * Within a hardlink set the first path carries the content and the others link to it; the packer
 * guarantees the whole set is in this layer.
 */
export function* layerEntries(
  graph: FileGraph,
  store: ContentStore,
  layer: LayerPaths,
  opts: EntryOptions,
): Generator<LayerItem> {
  const marks = new Map((layer.whiteouts ?? []).map((p) => [whiteoutPath(p), p]));
  const paths = [...layer.files, ...layer.dirs.filter((d) => d !== '.'), ...marks.keys()].sort();
  if (layer.dirs.includes('.')) paths.unshift('.');
  const firstOfSet = new Map<Inode, string>();
  for (const path of paths) {
    if (marks.has(path)) {
      // An empty file owned by root, at time 0: nothing in a whiteout depends on the build.
      yield { entry: newEntry(path, 'file') };
      continue;
    }
    const node = graph.get(path);
    if (!node) throw new Error(`internal: planned path ${path} is not in the graph`);
    const entry = inodeToEntry(path, node.inode);
    if (
      opts.clampMtime !== undefined &&
      (entry.mtimeSec > opts.clampMtime || (entry.mtimeSec === opts.clampMtime && entry.mtimeNsec > 0))
    ) {
      entry.mtimeSec = opts.clampMtime;
      entry.mtimeNsec = 0;
    }
    if (opts.dirMtime !== undefined && entry.type === 'dir') {
      entry.mtimeSec = opts.dirMtime;
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
    yield content !== null && store.contents.size(content) > 0
      ? { entry, body: store.read(content), contentDigest: store.contents.sha256(content) }
      : { entry };
  }
}

/** `a/b` -> `a/.wh.b`: the entry that hides `a/b` of the layers below (image-spec layer.md). */
function whiteoutPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}${WHITEOUT_PREFIX}${path.slice(slash + 1)}`;
}

/** How many directories (the root included when it has an entry) `dirMtime: to` takes their true mtime from. */
export function dirsChangedByMtime(graph: FileGraph, to: number): number {
  const differs = (i: Inode) => i.mtimeSec !== to || i.mtimeNsec !== 0;
  let n = !graph.root.implied && differs(graph.root.inode) ? 1 : 0;
  for (const [, node] of graph.walk()) if (isDir(node) && differs(node.inode)) n++;
  return n;
}
