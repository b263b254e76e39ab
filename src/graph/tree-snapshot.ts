import { createHash } from 'node:crypto';
import type { ContentIndex } from './content-index.js';
import { type FileGraph, type Inode, isDir } from './file-graph.js';

/**
 * A tree as `--keep-base` needs to remember it: for every path, a digest of everything an unpacker
 * would show there (type, metadata, content, xattrs, the hardlink set it belongs to). Digests, not
 * nodes: the graph goes on changing as the upper layers are applied, and a digest is ~40 bytes.
 */
export interface TreeSnapshot {
  /**
   * Path -> signature. A directory's starts with 'd', and an implied directory (no entry ever
   * described it) is just 'i': it has no metadata to compare. The root is '.', first; parents come before children.
   */
  readonly paths: ReadonlyMap<string, string>;
}

export interface SnapshotOptions {
  /** Xattrs the comparison ignores (the ones the run leaves out of the output anyway). */
  ignoreXattr?: (name: string) => boolean;
}

/** What changed from a snapshot of the base to the final tree. */
export interface TreeDelta {
  /** Non-directory paths new or different in the final tree (whole hardlink sets), byte order. */
  files: Set<string>;
  /** Directories new or different in the final tree ('.' for the root), byte order. */
  dirs: string[];
  /**
   * Base paths the final tree no longer has, or has as a directory where the base had none or the
   * reverse: each needs a whiteout. Only the topmost of a removed subtree is listed.
   */
  whiteouts: string[];
}

export function snapshotTree(graph: FileGraph, opts: SnapshotOptions = {}): TreeSnapshot {
  return snapshotWith(graph, graph.hardlinkSets(), opts);
}

export function treeDelta(base: TreeSnapshot, graph: FileGraph, opts: SnapshotOptions = {}): TreeDelta {
  const sets = graph.hardlinkSets();
  const now = snapshotWith(graph, sets, opts);
  const files = new Set<string>();
  const dirs: string[] = [];
  for (const [p, sig] of now.paths) {
    if (base.paths.get(p) === sig || sig === IMPLIED) continue;
    if (isDirSignature(sig)) dirs.push(p);
    else files.add(p);
  }
  // A hardlink set is written whole: a new path linked to an unchanged one brings that one along,
  // or the link would point into a lower layer, which tar cannot express.
  for (const paths of sets.values()) if (paths.some((p) => files.has(p))) for (const p of paths) files.add(p);

  const whiteouts: string[] = [];
  const removedDirs = new Set<string>();
  for (const [p, sig] of base.paths) {
    if (p === '.' || underRemoved(p, removedDirs)) continue;
    const after = now.paths.get(p);
    const wasDir = isDirSignature(sig);
    // A directory that stays one is compared path by path below it; a whiteout there would hide
    // the unchanged paths it keeps.
    if (after !== undefined && isDirSignature(after) === wasDir) continue;
    whiteouts.push(p);
    if (wasDir) removedDirs.add(p);
  }
  return { files: new Set([...files].sort()), dirs: dirs.sort(), whiteouts };
}

/** A snapshot lists parents before children, so a removed ancestor is known by the time we get here. */
function underRemoved(path: string, removed: ReadonlySet<string>): boolean {
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) if (removed.has(path.slice(0, i))) return true;
  return false;
}

const IMPLIED = 'i';

function isDirSignature(sig: string): boolean {
  return sig === IMPLIED || sig.startsWith('d');
}

/** Paths in walk order (parents first); a hardlink set's key is its sorted paths, so a set that gains or loses a path differs. */
function snapshotWith(graph: FileGraph, sets: ReadonlyMap<Inode, string[]>, opts: SnapshotOptions): TreeSnapshot {
  const keys = new Map<Inode, string>();
  for (const [inode, paths] of sets) keys.set(inode, paths.join('\0'));
  const paths = new Map<string, string>();
  paths.set('.', graph.root.implied ? IMPLIED : signature(graph.root.inode, '', graph.contents, opts));
  for (const [p, node] of graph.walk())
    paths.set(
      p,
      isDir(node) && node.implied ? IMPLIED : signature(node.inode, keys.get(node.inode) ?? '', graph.contents, opts),
    );
  return { paths };
}

function signature(inode: Inode, linkSet: string, contents: ContentIndex, opts: SnapshotOptions): string {
  const h = createHash('sha1');
  h.update(
    [
      inode.type,
      inode.mode,
      inode.uid,
      inode.gid,
      inode.uname,
      inode.gname,
      inode.mtimeSec,
      inode.mtimeNsec,
      inode.size,
      inode.linkname,
      inode.devmajor,
      inode.devminor,
      inode.content === null ? '' : contents.sha256(inode.content),
    ].join('\0'),
  );
  for (const [name, value] of [...(inode.xattrs ?? [])].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (opts.ignoreXattr?.(name)) continue;
    h.update(`\0x${name}\0`);
    h.update(value);
  }
  h.update(`\0l${linkSet}`);
  return (inode.type === 'dir' ? 'd' : 'f') + h.digest('base64');
}
