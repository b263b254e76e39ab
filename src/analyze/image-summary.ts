import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { detectComponents } from '../components/detect.js';
import type { Component, ComponentKind, ComponentMeta } from '../components/types.js';
import { FileGraph, inodeToEntry, isDir, type Inode } from '../graph/file-graph.js';
import { fingerprintComponents } from '../plan/fingerprint.js';
import { writeTar } from '../tar/writer.js';
import { flattenIndex } from './index-flatten.js';
import { indexTreeView } from './index-tree-view.js';
import type { IndexedLayer } from './parquet-index.js';

/** One component of an image, as the planner needs it again (no paths: the file table has them). */
export interface ComponentSummary {
  name: string;
  kind: ComponentKind;
  size: number;
  /** Sum of its files' contents gzip'd alone: what a layer of it alone would weigh, about. */
  compressedSize: number;
  fingerprint: string;
  group?: string;
  meta?: ComponentMeta;
}

export interface LayerSummary {
  digest: string;
  mediaType: string;
  compressedSize: number;
  contentBytes: number;
  entries: number;
}

/** What one image holds, from its layers' index: every per-image figure, and the planner's inputs. */
export interface ImageSummary {
  name: string;
  manifestDigest: string;
  layers: LayerSummary[];
  compressedBytes: number;
  uncompressedBytes: number;
  /** Regular-file paths (each path of a hardlink set counts), as `find -type f` counts. */
  files: number;
  /** Bytes of those files, a hardlink set once (as `du` counts). */
  fileBytes: number;
  directories: number;
  /** Distinct file contents, and the bytes of files whose content another file of the image holds. */
  distinctContents: number;
  duplicateBytes: number;
  /** Bytes of file entries in the layers that upper layers overwrote or deleted. */
  wastedBytes: number;
  components: ComponentSummary[];
  /** Changes when any directory's metadata does: the one layer of directories then changes. */
  dirFingerprint: string;
  /** Compressed bytes of that layer of directory entries. */
  dirLayerBytes: number;
}

/** One regular-file path of the flattened image: the rows the cross-image queries run over. */
export interface ImageFileRow {
  path: string;
  size: number;
  digest: string;
  compressedSize: number;
  /** Same number for every path of one hardlink set; `first` marks the set's first path. */
  inode: number;
  first: boolean;
  component: string;
}

export async function summarizeImage(
  name: string,
  manifestDigest: string,
  layers: readonly IndexedLayer[],
): Promise<{ summary: ImageSummary; files: ImageFileRow[] }> {
  const tree = await flattenIndex(name, layers);
  const { components } = await detectComponents(indexTreeView(tree, name), {});
  const fps = fingerprintComponents(tree.graph, components);
  const owner = new Map<string, string>();
  for (const c of components) for (const p of c.paths) owner.set(p, c.name);

  const files: ImageFileRow[] = [];
  const inodeIds = new Map<Inode, number>();
  const compressedByComponent = new Map<string, number>();
  const seen = new Set<string>();
  let fileBytes = 0;
  let distinctBytes = 0;
  let directories = 0;
  for (const [p, node] of tree.graph.walk()) {
    if (isDir(node)) {
      directories++;
      continue;
    }
    const inode = node.inode;
    if (inode.type !== 'file' || !inode.content) continue;
    const first = !inodeIds.has(inode);
    if (first) inodeIds.set(inode, inodeIds.size);
    const facts = tree.contents.get(inode.content.sha256)!;
    const component = owner.get(p) ?? '';
    files.push({ path: p, size: inode.size, digest: `sha256:${inode.content.sha256}`, compressedSize: facts.compressedSize, inode: inodeIds.get(inode)!, first, component });
    if (!first) continue;
    fileBytes += inode.size;
    compressedByComponent.set(component, (compressedByComponent.get(component) ?? 0) + facts.compressedSize);
    if (!seen.has(inode.content.sha256)) {
      seen.add(inode.content.sha256);
      distinctBytes += inode.size;
    }
  }
  const dirs = directoryFacts(tree.graph);
  const summary: ImageSummary = {
    name,
    manifestDigest,
    layers: layers.map((l) => ({ digest: l.facts.layerDigest, mediaType: l.facts.mediaType, compressedSize: l.facts.compressedSize, contentBytes: l.facts.contentBytes, entries: l.facts.entries })),
    compressedBytes: layers.reduce((s, l) => s + l.facts.compressedSize, 0),
    uncompressedBytes: layers.reduce((s, l) => s + l.facts.contentBytes, 0),
    files: files.length,
    fileBytes,
    directories,
    distinctContents: seen.size,
    duplicateBytes: fileBytes - distinctBytes,
    wastedBytes: tree.wastedBytes,
    components: components.map((c) => componentSummary(c, fps.get(c.name)!, compressedByComponent.get(c.name) ?? 0)),
    dirFingerprint: dirs.fingerprint,
    dirLayerBytes: await dirs.compressedBytes(),
  };
  return { summary, files };
}

function componentSummary(c: Component, fingerprint: string, compressedSize: number): ComponentSummary {
  return {
    name: c.name,
    kind: c.kind,
    size: c.size,
    compressedSize,
    fingerprint,
    ...(c.group === undefined ? {} : { group: c.group }),
    ...(c.meta === undefined ? {} : { meta: c.meta }),
  };
}

/**
 * The directories as the default parent-directory mode writes them: one layer of every directory
 * with its metadata. Its fingerprint says whether an update changes it; its size is that tar,
 * written by our tar writer and gzip'd.
 */
function directoryFacts(graph: FileGraph): { fingerprint: string; compressedBytes: () => Promise<number> } {
  const h = createHash('sha256');
  const dirs: [string, Inode][] = [];
  for (const [p, node] of graph.walk()) {
    if (!isDir(node)) continue;
    const i = node.inode;
    dirs.push([p, i]);
    h.update(`${p}\0${i.mode} ${i.uid} ${i.gid} ${i.mtimeSec}.${i.mtimeNsec} ${[...(i.xattrs?.keys() ?? [])].join(',')}\n`);
  }
  return {
    fingerprint: h.digest('hex').slice(0, 32),
    compressedBytes: async () => {
      const z = zlib.createGzip({ level: 6 });
      let n = 0;
      z.on('data', (d: Buffer) => (n += d.length));
      const done = new Promise((r) => z.on('end', r));
      for await (const chunk of writeTar(dirs.map(([p, i]) => ({ entry: inodeToEntry(p, i) })))) z.write(chunk);
      z.end();
      await done;
      return n;
    },
  };
}
