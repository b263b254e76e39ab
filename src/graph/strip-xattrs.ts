import type { FileGraph } from './file-graph.js';

/**
 * xattrs a build host puts on every file, which an image read from a directory or from
 * containers-storage would otherwise carry: `security.selinux` (the build container's labels;
 * bootc does not support it in tar layers, the deployed system relabels) and `trusted.*`
 * (overlayfs and other privileged bookkeeping, never the image's). Returns how many files had any.
 */
export function isHostXattr(name: string): boolean {
  return name === 'security.selinux' || name.startsWith('trusted.');
}

export function stripHostXattrs(graph: FileGraph): { files: number; names: Set<string> } {
  const names = new Set<string>();
  let files = 0;
  const seen = new Set<object>();
  const visit = (inode: { xattrs: Map<string, Buffer> | null }) => {
    if (!inode.xattrs || seen.has(inode)) return;
    seen.add(inode);
    let hit = false;
    for (const k of [...inode.xattrs.keys()]) {
      if (!isHostXattr(k)) continue;
      inode.xattrs.delete(k);
      names.add(k);
      hit = true;
    }
    if (inode.xattrs.size === 0) inode.xattrs = null;
    if (hit) files++;
  };
  visit(graph.root.inode);
  for (const [, node] of graph.walk()) visit(node.inode);
  return { files, names };
}

/** Does any path carry a host xattr (what stripHostXattrs would leave out)? */
export function hasHostXattrs(graph: FileGraph): boolean {
  const carries = (inode: { xattrs: Map<string, Buffer> | null }) =>
    inode.xattrs !== null && [...inode.xattrs.keys()].some(isHostXattr);
  if (carries(graph.root.inode)) return true;
  for (const [, node] of graph.walk()) if (carries(node.inode)) return true;
  return false;
}
