import { FileGraph, inodeFromEntry, type DirNode, type Inode } from '../../src/graph/file-graph.js';
import { newEntry } from '../../src/tar/entry.js';

/**
 * A graph written out by hand, parents first: `a/` is a directory, `a -> target` a symlink, the
 * rest empty files. `links` makes a path share the named path's inode (a hardlink set); `xattrs`
 * gives a path extended attributes.
 */
export function graphOf(
  specs: string[],
  links: Record<string, string> = {},
  xattrs: Record<string, Record<string, string>> = {},
): FileGraph {
  const g = new FileGraph();
  const inodes = new Map<string, Inode>();
  for (const spec of specs) {
    const [p, target] = spec.split(' -> ') as [string, string | undefined];
    const dir = p.endsWith('/');
    const clean = dir ? p.slice(0, -1) : p;
    const parts = clean.split('/');
    let parent: DirNode = g.root;
    for (const part of parts.slice(0, -1)) parent = parent.children.get(part) as DirNode;
    const name = parts[parts.length - 1]!;
    const x = new Map(Object.entries(xattrs[clean] ?? {}).map(([k, v]) => [k, Buffer.from(v)] as const));
    const type = dir ? 'dir' : target !== undefined ? 'symlink' : 'file';
    const inode = links[clean]
      ? inodes.get(links[clean]!)!
      : inodeFromEntry(
          newEntry(clean, type, { xattrs: x, ...(target !== undefined ? { linkname: target } : {}) }),
          null,
        );
    if (links[clean]) inode.linked = true;
    inodes.set(clean, inode);
    parent.children.set(
      name,
      dir
        ? { name, parent, children: new Map(), inode, layer: 0, implied: false }
        : { name, parent, children: null, inode, layer: 0 },
    );
  }
  return g;
}
