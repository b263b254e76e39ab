import { newEntry, type TarEntry } from '../tar/entry.js';
import { type ContentId, ContentIndex } from './content-index.js';
import { type Inode, packInode } from './packed-inode.js';

export type { Inode };

export interface DirNode {
  name: string;
  parent: DirNode | null;
  children: Map<string, Node>;
  inode: Inode;
  /** Last layer that created or passed through it (whiteouts only hide what is older). */
  layer: number;
  /** No entry ever described it: its metadata is the unpacker default. */
  implied: boolean;
}

export interface LeafNode {
  name: string;
  parent: DirNode;
  children: null;
  inode: Inode;
  layer: number;
}

export type Node = DirNode | LeafNode;

export function isDir(node: Node): node is DirNode {
  return node.children !== null;
}

export function inodeFromEntry(e: TarEntry, content: ContentId | null): Inode {
  return packInode({
    type: e.type === 'hardlink' ? 'file' : e.type,
    mode: e.mode & 0o7777,
    uid: e.uid,
    gid: e.gid,
    uname: e.uname,
    gname: e.gname,
    mtimeSec: e.mtimeSec,
    mtimeNsec: e.mtimeNsec,
    size: e.type === 'file' ? e.size : 0,
    linkname: e.type === 'symlink' ? e.linkname : '',
    devmajor: e.devmajor,
    devminor: e.devminor,
    xattrs: e.xattrs.size > 0 ? new Map(e.xattrs) : null,
    content,
    linked: false,
  });
}

/** What containers/storage gives a directory nobody described: 0755 root, and (here) time 0. */
export function impliedDirInode(): Inode {
  return inodeFromEntry(newEntry('.', 'dir'), null);
}

/** A directory a path implies under `parent`, first met in `layer`. */
export function impliedDir(name: string, parent: DirNode, layer: number): DirNode {
  return { name, parent, children: new Map(), inode: impliedDirInode(), layer, implied: true };
}

export function inodeToEntry(path: string, inode: Inode): TarEntry {
  return {
    path,
    type: inode.type,
    mode: inode.mode,
    uid: inode.uid,
    gid: inode.gid,
    uname: inode.uname,
    gname: inode.gname,
    mtimeSec: inode.mtimeSec,
    mtimeNsec: inode.mtimeNsec,
    size: inode.type === 'file' ? inode.size : 0,
    linkname: inode.linkname,
    devmajor: inode.devmajor,
    devminor: inode.devminor,
    xattrs: inode.xattrs ?? new Map(),
  };
}

/**
 * The flattened tree of an image: directories with children, leaves pointing at shared inodes.
 * Memory is a few hundred bytes per path (inodes are packed, packed-inode.ts); file contents live
 * in the ContentStore, and inodes name them by their id in `contents`.
 */
export class FileGraph {
  /**
   * The contents the inodes' ids are numbers in: a graph read into a store shares the store's
   * (ContentStore.contents), so the ids are the store's too.
   */
  constructor(readonly contents: ContentIndex = new ContentIndex()) {}

  readonly root: DirNode = {
    name: '',
    parent: null,
    children: new Map(),
    inode: impliedDirInode(),
    layer: -1,
    implied: true,
  };

  get(path: string): Node | undefined {
    if (path === '.') return this.root;
    // Cut at each slash instead of split('/'): this runs once per path in several stages, and the
    // array split makes was most of its time on a 250,000-file image.
    let node: Node = this.root;
    let from = 0;
    while (from <= path.length) {
      if (!isDir(node)) return undefined;
      let to = path.indexOf('/', from);
      if (to < 0) to = path.length;
      const next: Node | undefined = node.children.get(path.slice(from, to));
      if (!next) return undefined;
      node = next;
      from = to + 1;
    }
    return node;
  }

  static pathOf(node: Node): string {
    const parts: string[] = [];
    for (let n: Node | null = node; n?.parent; n = n.parent) parts.push(n.name);
    return parts.reverse().join('/') || '.';
  }

  /** Every path but the root, depth first, children in byte order (so parents come first). */
  *walk(from: DirNode = this.root, prefix = ''): Generator<[string, Node]> {
    // An explicit stack, not recursion: the depth comes from the image, and a deep enough tree
    // would overflow the call stack.
    const frame = (dir: DirNode, at: string) => ({ dir, at, names: [...dir.children.keys()].sort(), next: 0 });
    const stack = [frame(from, prefix)];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next === top.names.length) {
        stack.pop();
        continue;
      }
      const name = top.names[top.next++]!;
      const node = top.dir.children.get(name)!;
      const p = top.at === '' ? name : `${top.at}/${name}`;
      yield [p, node];
      if (isDir(node)) stack.push(frame(node, p));
    }
  }

  /** Paths of every inode that has more than one path, each list in byte order. */
  hardlinkSets(): Map<Inode, string[]> {
    const sets = new Map<Inode, string[]>();
    for (const [p, node] of this.walk()) {
      if (isDir(node) || !node.inode.linked) continue;
      const list = sets.get(node.inode);
      if (list) list.push(p);
      else sets.set(node.inode, [p]);
    }
    for (const [inode, paths] of sets) {
      if (paths.length < 2) sets.delete(inode);
      else paths.sort();
    }
    return sets;
  }
}
