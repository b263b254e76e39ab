import { isDir, type FileGraph } from '../graph/file-graph.js';

/**
 * What a bootc image must keep and what would lie once it is rechunked (bootc's docs; chunkah's
 * documented build step prunes /sysroot/ and removes the ostree labels):
 * - `containers.bootc` and `ostree.bootable` stay as they are;
 * - `ostree.commit` and `ostree.final-diffid` describe an ostree-encapsulated image (one carrying
 *   its commit in /sysroot/ostree/repo): without that repo they are removed, and the run says so;
 * - a /sysroot/ostree that still has content duplicates /usr through hardlinks: a warning.
 */
export const OSTREE_LABELS = ['ostree.commit', 'ostree.final-diffid'] as const;

function entriesUnder(graph: FileGraph, path: string): number {
  const node = graph.get(path);
  if (!node || !isDir(node)) return 0;
  let n = 0;
  for (const _ of graph.walk(node)) n++;
  return n;
}

export interface BootcReview {
  /** --label operations to apply after the user's (KEY- for each stale ostree label). */
  labelOps: string[];
  notes: string[];
  warnings: string[];
}

export function reviewBootc(
  graph: FileGraph,
  labels: Readonly<Record<string, string>>,
  pruned: readonly string[],
): BootcReview {
  const review: BootcReview = { labelOps: [], notes: [], warnings: [] };
  const encapsulated = entriesUnder(graph, 'sysroot/ostree/repo/objects') > 0;
  const stale = OSTREE_LABELS.filter((l) => l in labels);
  if (!encapsulated && stale.length > 0) {
    review.labelOps.push(...stale.map((l) => `${l}-`));
    review.notes.push(
      `removed label${stale.length > 1 ? 's' : ''} ${stale.join(', ')}: the image has no /sysroot/ostree/repo commit, so it is no longer ostree-encapsulated`,
    );
  }
  const ostree = entriesUnder(graph, 'sysroot/ostree');
  const prunedSysroot = pruned.some((p) => /^\/sysroot\/?$|^\/sysroot\/ostree\/?$/.test(p));
  if (ostree > 0 && !prunedSysroot) {
    review.warnings.push(
      `/sysroot/ostree holds ${ostree} entries (hardlinks of /usr's files, shipped twice); --prune /sysroot/ drops them, as chunkah's bootc build does`,
    );
  }
  return review;
}
