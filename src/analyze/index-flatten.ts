import { applyLayer } from '../graph/apply-layer.js';
import type { ContentId } from '../graph/content-index.js';
import type { ContentStore } from '../graph/content-store.js';
import { FileGraph, isDir, type Inode } from '../graph/file-graph.js';
import { checkDigest, shortDigest } from '../oci/digest.js';
import { displayPath, newEntry } from '../tar/entry.js';
import type { TarReadItem } from '../tar/reader.js';
import type { IndexEntry, IndexedLayer } from './index-schema.js';

/** One distinct content of an image, as the index knows it. */
export interface ContentFacts {
  size: number;
  /** gzip -6 of the content alone. */
  compressedSize: number;
  /** Kept only for the files component detection reads. */
  content: Buffer | null;
}

export interface IndexedImageTree {
  graph: FileGraph;
  /** By sha256 hex (no prefix), as ContentIndex.sha256 spells it. */
  contents: Map<string, ContentFacts>;
  /** Bytes of file entries in the layers that the flattened tree no longer shows (dive's wasted space). */
  wastedBytes: number;
}

const EMPTY: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: async function* () {} };

/**
 * The flattened tree of an image from its layers' index rows, by the same code that applies real
 * layers (graph/apply-layer.ts): whiteouts, opaque directories, implied parents and hardlinks
 * mean exactly what they mean to rechunk. The rows carry no bodies, so apply-layer is handed a
 * content store that answers each file with the digest the index recorded for it.
 */
export async function flattenIndex(name: string, layers: readonly IndexedLayer[]): Promise<IndexedImageTree> {
  const graph = new FileGraph();
  const contents = new Map<string, ContentFacts>();
  let current: IndexEntry | undefined;
  // apply-layer asks the store for one file's content right after it takes that file's item.
  const store: Pick<ContentStore, 'put' | 'contents'> = {
    contents: graph.contents,
    async put(_body: AsyncIterable<Buffer>, size: number): Promise<ContentId> {
      const where = `${name}: the index's "${displayPath(current!.path)}"`;
      const sha256 = checkDigest(current!.digest, where).slice('sha256:'.length);
      if (!contents.has(sha256))
        contents.set(sha256, { size, compressedSize: current!.compressedSize ?? size, content: current!.content });
      else if (current!.content && !contents.get(sha256)!.content) contents.get(sha256)!.content = current!.content;
      const digest = Buffer.from(sha256, 'hex');
      return graph.contents.find(digest) ?? graph.contents.add(digest, size, 0);
    },
  };

  let fileEntryBytes = 0;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const where = `${name}: layer ${i + 1}/${layers.length} (${shortDigest(layer.facts.layerDigest)}, from the index)`;
    for (const e of layer.entries) if (e.type === 'file') fileEntryBytes += e.size;
    const items = async function* (): AsyncGenerator<TarReadItem> {
      for (const e of layer.entries) {
        current = e;
        yield { entry: toTarEntry(e), body: EMPTY };
      }
    };
    await applyLayer(graph, store, items(), i, where);
  }
  const visible = new Set<Inode>();
  for (const [, node] of graph.walk()) if (!isDir(node) && node.inode.type === 'file') visible.add(node.inode);
  let visibleBytes = 0;
  for (const inode of visible) visibleBytes += inode.size;
  return { graph, contents, wastedBytes: fileEntryBytes - visibleBytes };
}

function toTarEntry(e: IndexEntry) {
  // A whiteout is an empty file by its name; apply-layer reads the name.
  const type = e.type === 'whiteout' || e.type === 'opaque' ? 'file' : e.type === 'none' ? 'file' : e.type;
  return newEntry(e.path, type, {
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    uname: e.uname,
    gname: e.gname,
    mtimeSec: e.mtimeSec,
    mtimeNsec: e.mtimeNsec,
    size: e.type === 'file' ? e.size : 0,
    linkname: e.linkname,
    devmajor: e.devmajor,
    devminor: e.devminor,
    xattrs: new Map(e.xattrNames.map((n, i) => [n, e.xattrValues[i]!])),
  });
}
