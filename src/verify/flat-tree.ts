import type { ContentIndex } from '../graph/content-index.js';
import { type FileGraph, isDir, type Inode } from '../graph/file-graph.js';

/**
 * What one unpacker model shows at one path: the fields a kernel keeps (no uname/gname, no
 * directory size), in a form two trees can be compared by.
 */
export const UNPACK_TIME = 'unpack-time';

export interface FlatEntry {
  type: Inode['type'];
  mode: number;
  uid: number;
  gid: number;
  /** Nanoseconds since the epoch, or UNPACK_TIME for a directory the unpacker made itself. */
  mtime: bigint | typeof UNPACK_TIME;
  /** sha256 of the content (hex), regular files only. */
  sha256?: string;
  /** Symlink target. */
  linkname?: string;
  /** 'major:minor', device nodes only. */
  device?: string;
  xattrs: Map<string, Buffer>;
  /** Every path of the tree sharing this inode, sorted, when there are two or more. */
  hardlinks?: readonly string[];
  /** Made by the unpacker with default metadata (0755, root, time of unpacking). */
  defaulted: boolean;
}

/** path -> entry; the root itself is not part of it (it is the mount point, not an image path). */
export type FlatTree = Map<string, FlatEntry>;

/** What containers/storage gives a directory no entry describes: 0755, root, the time of unpacking. */
export function defaultedDir(): FlatEntry {
  return { type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: UNPACK_TIME, xattrs: new Map(), defaulted: true };
}

export function flatEntry(inode: Inode, implied: boolean, contents: ContentIndex): FlatEntry {
  if (implied) return defaultedDir();
  const e: FlatEntry = {
    type: inode.type,
    mode: inode.mode,
    uid: inode.uid,
    gid: inode.gid,
    mtime: BigInt(inode.mtimeSec) * 1_000_000_000n + BigInt(inode.mtimeNsec),
    xattrs: inode.xattrs ?? new Map(),
    defaulted: false,
  };
  if (inode.type === 'file') e.sha256 = inode.content === null ? EMPTY_SHA256 : contents.sha256(inode.content);
  if (inode.type === 'symlink') e.linkname = inode.linkname;
  if (inode.type === 'chardev' || inode.type === 'blockdev') e.device = `${inode.devmajor}:${inode.devminor}`;
  return e;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Give every path of a multi-path inode its sorted set. `leaves` maps a path to the inode object
 * it came from: identity is what makes a hardlink set.
 */
export function linkSets(tree: FlatTree, leaves: Iterable<[string, object]>): void {
  const byInode = new Map<object, string[]>();
  for (const [p, inode] of leaves) {
    const list = byInode.get(inode);
    if (list) list.push(p);
    else byInode.set(inode, [p]);
  }
  for (const paths of byInode.values()) {
    if (paths.length < 2) continue;
    const set = Object.freeze(paths.sort());
    for (const p of set) tree.get(p)!.hardlinks = set;
  }
}

/**
 * The OCI model: the file graph as loadImage builds it (layers applied in order; an implied
 * directory keeps the metadata it already had). A directory no entry ever described gets the
 * unpacker default, as it would from any unpacker.
 */
export function flattenGraph(graph: FileGraph): FlatTree {
  const tree: FlatTree = new Map();
  const leaves: Array<[string, object]> = [];
  for (const [p, node] of graph.walk()) {
    tree.set(p, flatEntry(node.inode, isDir(node) && node.implied, graph.contents));
    if (!isDir(node) && node.inode.linked) leaves.push([p, node.inode]);
  }
  linkSets(tree, leaves);
  return tree;
}
