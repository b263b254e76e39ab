import { RechunkerError } from '../errors.js';
import { displayPath, type TarEntry } from '../tar/entry.js';
import type { TarReadItem } from '../tar/reader.js';
import type { ContentStore } from './content-store.js';
import {
  FileGraph,
  impliedDir,
  impliedDirInode,
  inodeFromEntry,
  isDir,
  type DirNode,
  type Node,
} from './file-graph.js';
import { AUFS_META_PREFIX, OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from '../oci/whiteout.js';

export interface ApplyStats {
  entries: number;
  whiteouts: number;
}

/**
 * Apply one layer's entries to the graph with OCI changeset semantics (image-spec layer.md):
 * later entries replace earlier ones, `.wh.NAME` hides NAME of lower layers, `.wh..wh..opq`
 * hides everything lower in its directory (wherever the marker stands in the archive), and a
 * directory a path implies keeps the metadata it already had.
 */
export async function applyLayer(
  graph: FileGraph,
  store: Pick<ContentStore, 'put' | 'contents'>,
  items: AsyncIterable<TarReadItem>,
  layer: number,
  where: string,
): Promise<ApplyStats> {
  // The inodes will hold the store's content ids, which mean nothing in another index.
  if (graph.contents !== store.contents) throw new Error('internal: a graph applied into a store of other contents');
  const stats: ApplyStats = { entries: 0, whiteouts: 0 };
  // Directories an entry of this layer described: a whiteout leaves their metadata alone.
  const described = new Set<DirNode>();
  for await (const { entry, body } of items) {
    stats.entries++;
    const slash = entry.path.lastIndexOf('/');
    const base = entry.path.slice(slash + 1);
    if (base === WHITEOUT_PREFIX || base === '.wh..' || base === '.wh...') {
      // Go unpackers join the name to its directory and remove that: the directory itself.
      throw new RechunkerError('BAD_TAR', `${where}: whiteout "${displayPath(entry.path)}" names '', '.' or '..'`);
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      stats.whiteouts++;
      applyWhiteout(graph, entry.path.slice(0, Math.max(slash, 0)), base, { layer, described }, where);
      continue;
    }
    if (entry.path === '.') {
      if (entry.type !== 'dir') throw new RechunkerError('BAD_TAR', `${where}: the root entry is not a directory`);
      setDirMeta(graph.root, entry, layer);
      described.add(graph.root);
      continue;
    }
    const parent = ensureParents(graph, entry.path.slice(0, Math.max(slash, 0)), layer, where);
    const existing = parent.children.get(base);
    if (existing && existing.layer === layer && existing.inode.type === 'symlink') {
      // GNU tar defers symlinks with absolute or '..' targets to the end of the archive, and may
      // then put the symlink back over what replaced it; Go keeps the later entry.
      throw new RechunkerError(
        'BAD_TAR',
        `${where}: "${displayPath(entry.path)}" replaces a symlink the same layer wrote`,
      );
    }
    if (entry.type === 'dir') {
      if (existing && isDir(existing)) {
        setDirMeta(existing, entry, layer);
        described.add(existing);
      } else {
        const dir: DirNode = {
          name: base,
          parent,
          children: new Map(),
          inode: inodeFromEntry(entry, null),
          layer,
          implied: false,
        };
        parent.children.set(base, dir);
        described.add(dir);
      }
      continue;
    }
    if (existing && isDir(existing) && existing.layer === layer && existing.children.size > 0) {
      // Go-based unpackers remove the directory and what this layer put in it; GNU tar refuses.
      throw new RechunkerError(
        'BAD_TAR',
        `${where}: ${entry.type} "${displayPath(entry.path)}" replaces a directory this layer filled`,
      );
    }
    if (entry.type === 'hardlink') {
      const target = graph.get(entry.linkname);
      if (!target)
        throw new RechunkerError(
          'BAD_TAR',
          `${where}: hardlink "${displayPath(entry.path)}" points to "${displayPath(entry.linkname)}", which does not exist`,
        );
      // Go-based unpackers remove what is at the path before linking, so a link to itself fails.
      if (target === existing)
        throw new RechunkerError('BAD_TAR', `${where}: hardlink "${displayPath(entry.path)}" points to itself`);
      if (isDir(target))
        throw new RechunkerError('BAD_TAR', `${where}: hardlink "${displayPath(entry.path)}" points to a directory`);
      target.inode.linked = true;
      parent.children.set(base, { name: base, parent, children: null, inode: target.inode, layer });
      continue;
    }
    const content =
      entry.type === 'file' ? await store.put(body, entry.size, `${where}: ${displayPath(entry.path)}`) : null;
    parent.children.set(base, { name: base, parent, children: null, inode: inodeFromEntry(entry, content), layer });
  }
  return stats;
}

function setDirMeta(dir: DirNode, entry: TarEntry, layer: number): void {
  dir.inode = inodeFromEntry(entry, null);
  dir.layer = layer;
  dir.implied = false;
}

/**
 * Walk to a directory, creating what is missing. An entry below a symlink is refused: it is the
 * classic escape (`evil -> /etc`, then `evil/passwd`), and no real layer diff contains one,
 * because the build that made it wrote through the link. Any other non-directory in the way is
 * refused when this layer wrote it, and replaced by a directory when a lower layer did.
 */
function ensureParents(graph: FileGraph, dirPath: string, layer: number, where: string): DirNode {
  let dir = graph.root;
  if (dirPath === '') return dir;
  for (const part of dirPath.split('/')) {
    const next = dir.children.get(part);
    if (next && isDir(next)) {
      next.layer = layer;
      dir = next;
      continue;
    }
    if (next && next.inode.type === 'symlink') {
      const at = FileGraph.pathOf(next);
      throw new RechunkerError(
        'UNSAFE_PATH',
        `${where}: "${displayPath(dirPath)}/..." lies under "${displayPath(at)}", ` +
          `a symlink to "${displayPath(next.inode.linkname)}"; refusing to write through it`,
      );
    }
    if (next && next.layer === layer) {
      // In one layer GNU tar, umoci and containers/storage all fail here (ENOTDIR). Over a lower
      // layer's file, an overlay unpacker's own directory hides the file.
      const at = FileGraph.pathOf(next);
      throw new RechunkerError(
        'BAD_TAR',
        `${where}: "${displayPath(dirPath)}/..." lies under "${displayPath(at)}", a ${next.inode.type}, not a directory`,
      );
    }
    const made = impliedDir(part, dir, layer);
    dir.children.set(part, made);
    dir = made;
  }
  return dir;
}

interface ThisLayer {
  layer: number;
  described: ReadonlySet<DirNode>;
}

function applyWhiteout(graph: FileGraph, dirPath: string, base: string, at: ThisLayer, where: string): void {
  const dir = whiteoutDir(graph, dirPath, `${dirPath}/${base}`, where);
  if (!dir) return; // nothing below to hide
  if (base === OPAQUE_WHITEOUT) {
    for (const child of [...dir.children.values()]) dropOlder(child, at);
    return;
  }
  if (base.startsWith(AUFS_META_PREFIX)) return; // other aufs metadata (.wh..wh.plnk...): not content
  const target = dir.children.get(base.slice(WHITEOUT_PREFIX.length));
  if (target) dropOlder(target, at);
}

/**
 * The directory a whiteout hides something in, if there is one. One under a symlink is refused,
 * as an entry is (ensureParents): containerd and umoci resolve the link inside the root and
 * remove what it points to, so ignoring it would give another tree than theirs.
 */
function whiteoutDir(graph: FileGraph, dirPath: string, whiteout: string, where: string): DirNode | undefined {
  let dir = graph.root;
  if (dirPath === '') return dir;
  for (const part of dirPath.split('/')) {
    const next = dir.children.get(part);
    if (next === undefined) return undefined;
    if (next.inode.type === 'symlink')
      throw new RechunkerError(
        'UNSAFE_PATH',
        `${where}: whiteout "${displayPath(whiteout)}" lies under "${displayPath(FileGraph.pathOf(next))}", ` +
          `a symlink to "${displayPath(next.inode.linkname)}"; refusing to remove through it`,
      );
    if (!isDir(next)) return undefined;
    dir = next;
  }
  return dir;
}

/**
 * Remove what older layers put at and under `node`, keeping what this layer wrote. A directory
 * this layer only passed through (its entries came before the whiteout) stays, but no longer
 * as the lower directory: it is one this layer implies, with the unpacker's defaults, as an
 * overlay unpacker creates it in the layer's own directory.
 */
function dropOlder(node: Node, at: ThisLayer): void {
  if (node.layer < at.layer) {
    node.parent!.children.delete(node.name);
    return;
  }
  if (!isDir(node)) return;
  if (!node.implied && !at.described.has(node)) {
    node.inode = impliedDirInode();
    node.implied = true;
  }
  for (const child of [...node.children.values()]) dropOlder(child, at);
}
