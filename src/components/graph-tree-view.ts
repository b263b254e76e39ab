import type { TreeNodeInfo, TreeView } from './types.js';
import { RechunkerError } from '../errors.js';
import { displayPath } from '../tar/entry.js';
import type { ContentStore } from '../graph/content-store.js';
import { type FileGraph, isDir, type Inode, type Node } from '../graph/file-graph.js';

const MAX_SYMLINK_HOPS = 40;
const NO_XATTRS: ReadonlyMap<string, Buffer> = new Map();

/** The file graph as component detectors see it. */
export class GraphTreeView implements TreeView {
  private readonly links: Map<Inode, string[]>;

  constructor(
    private readonly graph: FileGraph,
    private readonly store: ContentStore,
  ) {
    this.links = graph.hardlinkSets();
  }

  *paths(): Iterable<string> {
    for (const [p] of this.graph.walk()) yield p;
  }

  lookup(path: string): TreeNodeInfo | undefined {
    const node = this.graph.get(path);
    if (!node) return undefined;
    const inode = node.inode;
    return {
      type: inode.type,
      size: inode.size,
      linkname: inode.linkname,
      xattrs: inode.xattrs ?? NO_XATTRS,
      links: isDir(node) ? [path] : (this.links.get(inode) ?? [path]),
    };
  }

  async readFile(path: string): Promise<Buffer> {
    const node = this.graph.get(path);
    if (node?.inode.type !== 'file' || node.inode.content === null) {
      throw new RechunkerError('NOT_FOUND', `no regular file at ${displayPath(path)} in the image`);
    }
    return this.store.readAll(node.inode.content);
  }

  resolveParents(path: string): string {
    let parts = path.split('/').filter((p) => p !== '' && p !== '.');
    let hops = 0;
    // Down the graph one name at a time: looking up each prefix as a path was quadratic in the
    // depth, and this runs for every path a package database lists.
    let at: Node = this.graph.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const node: Node | undefined = isDir(at) ? at.children.get(parts[i]!) : undefined;
      if (node === undefined) break; // nothing below a missing path exists either
      at = node;
      if (node.inode.type !== 'symlink') continue;
      if (++hops > MAX_SYMLINK_HOPS) return path;
      const target = node.inode.linkname;
      const base = target.startsWith('/') ? [] : parts.slice(0, i);
      const joined = normalize([...base, ...target.split('/'), ...parts.slice(i + 1)]);
      parts = joined;
      i = -1; // start again: the target may itself run through symlinks
      at = this.graph.root;
    }
    return parts.join('/');
  }
}

/** Resolve '.' and '..' inside the tree; '..' never climbs above the root, as in a chroot. */
function normalize(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return out;
}
