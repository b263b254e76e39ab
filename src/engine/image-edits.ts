import { reviewBootc } from '../assemble/bootc-labels.js';
import { editImage, type ConfigOverride } from '../assemble/config-edits.js';
import type { FileGraph } from '../graph/file-graph.js';
import { prunePaths } from '../graph/prune-paths.js';
import { isHostXattr, stripHostXattrs } from '../graph/strip-xattrs.js';
import type { SnapshotOptions } from '../graph/tree-snapshot.js';
import type { ResolvedImage } from '../oci/transport.js';
import { parseReference } from '../ref/image-reference.js';

/** What a rechunk run changes besides the layers: the tree (--prune, host xattrs) and the config. */
export interface ImageEditOptions {
  prune?: readonly string[];
  labels?: readonly string[];
  annotations?: readonly string[];
  override?: ConfigOverride;
  /** Keep security.selinux and trusted.* from a rootfs: or containers-storage: source. */
  keepHostXattrs?: boolean;
}

export interface EditReport {
  /** Paths --prune removed. */
  pruned: number;
  /** Files whose security.selinux / trusted.* xattrs were left out. */
  hostXattrFiles: number;
  notes: string[];
}

/** Sources whose xattrs are the build host's as much as the image's. */
const HOST_SOURCES = new Set(['rootfs', 'containers-storage']);

/**
 * The tree edits, run on the flattened graph before components are found (so the plan never sees
 * a pruned file); the report is filled in as they run.
 */
export function treeEditor(source: string, opts: ImageEditOptions, report: EditReport): (graph: FileGraph) => string[] {
  return (graph) => {
    const warnings: string[] = [];
    if (opts.prune && opts.prune.length > 0) {
      const { removed, missing } = prunePaths(graph, opts.prune);
      report.pruned = removed;
      report.notes.push(`--prune left out ${removed} paths`);
      for (const m of missing) warnings.push(`--prune ${m}: no such path in the image`);
    }
    if (stripsHostXattrs(source, opts)) {
      const { files, names } = stripHostXattrs(graph);
      report.hostXattrFiles = files;
      if (files > 0)
        report.notes.push(
          `left out ${[...names].sort().join(', ')} on ${files} files, as bootc expects (--keep-host-xattrs keeps them)`,
        );
    }
    return warnings;
  };
}

/** Does this run leave out the host xattrs of its tree? (a rootfs: or containers-storage: source) */
export function stripsHostXattrs(source: string, opts: ImageEditOptions): boolean {
  return !opts.keepHostXattrs && HOST_SOURCES.has(parseReference(source).transport);
}

/**
 * How --keep-base compares the tree with its base: xattrs this run leaves out are not a change
 * (the base's layers are kept as they are, with whatever they carry).
 */
export function hostXattrRule(source: string, opts: ImageEditOptions): SnapshotOptions {
  return stripsHostXattrs(source, opts) ? { ignoreXattr: isHostXattr } : {};
}

/** The config and manifest edits, with bootc's label rules (assemble/bootc-labels.ts) after the user's. */
export function finishImage(
  image: ResolvedImage,
  graph: FileGraph,
  opts: ImageEditOptions,
  sourceDateEpoch: number | undefined,
  report: EditReport,
): { image: ResolvedImage; warnings: string[] } {
  const edits = {
    ...(opts.override ? { override: opts.override } : {}),
    labels: opts.labels ?? [],
    annotations: opts.annotations ?? [],
    ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
  };
  const first = editImage(image, edits);
  const bootc = reviewBootc(graph, first.config.config?.Labels ?? {}, opts.prune ?? []);
  report.notes.push(...bootc.notes);
  const edited =
    bootc.labelOps.length > 0 ? editImage(image, { ...edits, labels: [...edits.labels, ...bootc.labelOps] }) : first;
  return { image: edited, warnings: bootc.warnings };
}
