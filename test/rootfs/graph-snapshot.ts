// The file graph seen as a tree snapshot (test/helpers/tree-snapshot.ts), so a loaded graph can be
// compared with what lstat and getfattr say about the directory it came from.
import type { ContentStore } from '../../src/graph/content-store.js';
import { type FileGraph, isDir } from '../../src/graph/file-graph.js';
import type { TreeEntry } from '../helpers/tree-snapshot.js';

export function graphSnapshot(graph: FileGraph, _store?: ContentStore): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const sets = graph.hardlinkSets();
  const setOf = new Map<string, readonly string[]>();
  for (const paths of sets.values()) for (const p of paths) setOf.set(p, paths);
  for (const [p, node] of graph.walk()) {
    const i = node.inode;
    const e: TreeEntry = {
      type: isDir(node) ? 'dir' : i.type,
      mode: i.mode,
      uid: i.uid,
      gid: i.gid,
      mtimeNs: BigInt(i.mtimeSec) * 1_000_000_000n + BigInt(i.mtimeNsec),
      size:
        i.type === 'file'
          ? BigInt(i.size)
          : i.type === 'symlink'
            ? BigInt(Buffer.from(i.linkname, 'latin1').length)
            : 0n,
      xattrs: new Map([...(i.xattrs ?? new Map<string, Buffer>())].map(([k, v]) => [k, v.toString('hex')])),
    };
    if (i.type === 'file') e.sha256 = i.content === null ? 'no content' : graph.contents.sha256(i.content);
    if (i.type === 'symlink') e.symlink = i.linkname;
    if (i.type === 'chardev' || i.type === 'blockdev') e.device = { major: i.devmajor, minor: i.devminor };
    const set = setOf.get(p);
    if (set) e.hardlinks = set;
    out.set(p, e);
  }
  return out;
}
