import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { detectComponents } from '../components/detect.js';
import type { Component } from '../components/types.js';
import { type FileGraph, inodeToEntry, isDir, type Inode } from '../graph/file-graph.js';
import { fingerprintComponents } from '../plan/fingerprint.js';
import { writeTar } from '../tar/writer.js';
import { flattenIndex } from './index-flatten.js';
import { indexTreeView } from './index-tree-view.js';
import type { ComponentSummary, ImageFileRow, ImageSummary, IndexedLayer } from './index-schema.js';

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
    if (inode.type !== 'file' || inode.content === null) continue;
    const sha256 = tree.graph.contents.sha256(inode.content);
    const first = !inodeIds.has(inode);
    if (first) inodeIds.set(inode, inodeIds.size);
    const facts = tree.contents.get(sha256)!;
    const component = owner.get(p) ?? '';
    files.push({
      path: p,
      size: inode.size,
      digest: `sha256:${sha256}`,
      compressedSize: facts.compressedSize,
      inode: inodeIds.get(inode)!,
      first,
      component,
    });
    if (!first) continue;
    fileBytes += inode.size;
    compressedByComponent.set(component, (compressedByComponent.get(component) ?? 0) + facts.compressedSize);
    if (!seen.has(sha256)) {
      seen.add(sha256);
      distinctBytes += inode.size;
    }
  }
  const dirs = directoryFacts(tree.graph);
  const summary: ImageSummary = {
    name,
    manifestDigest,
    layers: layers.map((l) => ({
      digest: l.facts.layerDigest,
      mediaType: l.facts.mediaType,
      compressedSize: l.facts.compressedSize,
      contentBytes: l.facts.contentBytes,
      tarBytes: l.facts.tarBytes,
      entries: l.facts.entries,
    })),
    compressedBytes: layers.reduce((s, l) => s + l.facts.compressedSize, 0),
    uncompressedBytes: layers.reduce((s, l) => s + l.facts.tarBytes, 0),
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
    h.update(
      `${p}\0${i.mode} ${i.uid} ${i.gid} ${i.mtimeSec}.${i.mtimeNsec} ${[...(i.xattrs?.keys() ?? [])].join(',')}\n`,
    );
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
