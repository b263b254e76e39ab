import { RechunkerError } from '../errors.js';
import { isDir, type FileGraph } from './file-graph.js';

/**
 * chunkah's --prune: each PATH (absolute) leaves the image with all that is under it; `PATH/`
 * keeps the directory itself and drops only its contents. Paths come as the user typed them
 * (UTF-8); the graph keeps names as byte strings. A hardlink set that loses some of its paths
 * keeps the others (they share one inode), so no link is left pointing at a pruned name.
 */
export interface PruneResult {
  /** Paths removed (each counted once, what lay under them included). */
  removed: number;
  /** Prune paths that named nothing in the image. */
  missing: string[];
}

export function normalizePrunePath(spec: string): { path: string; keepDir: boolean } {
  if (!spec.startsWith('/'))
    throw new RechunkerError('USAGE', `--prune ${spec}: the path must be absolute (e.g. /sysroot/)`);
  const keepDir = spec.endsWith('/');
  const parts = spec.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new RechunkerError('USAGE', `--prune ${spec}: ".." is not allowed`);
  if (parts.length === 0) throw new RechunkerError('USAGE', `--prune ${spec}: would remove everything`);
  return { path: Buffer.from(parts.join('/'), 'utf8').toString('latin1') || '.', keepDir };
}

export function prunePaths(graph: FileGraph, specs: readonly string[]): PruneResult {
  let removed = 0;
  const missing: string[] = [];
  for (const spec of specs) {
    const { path, keepDir } = normalizePrunePath(spec);
    const node = graph.get(path);
    if (!node) {
      missing.push(spec);
      continue;
    }
    if (keepDir) {
      if (!isDir(node))
        throw new RechunkerError(
          'USAGE',
          `--prune ${spec}: not a directory in the image (drop the trailing / to remove it)`,
        );
      for (const _ of graph.walk(node)) removed++;
      node.children.clear();
      continue;
    }
    if (!isDir(node) || node.parent === null) {
      if (node.parent) node.parent.children.delete(node.name);
      removed++;
      continue;
    }
    for (const _ of graph.walk(node)) removed++;
    node.parent.children.delete(node.name);
    removed++;
  }
  return { removed, missing };
}
