import type { EntryType } from '../tar/entry.js';

/**
 * What component detectors see of an image's flattened file tree. The file graph implements it;
 * tests implement it over a plain Map. Paths are byte strings (see tar/entry.ts), relative,
 * without a leading '/'.
 */
export interface TreeView {
  /** Every path in the tree except the root, in byte order. */
  paths(): Iterable<string>;
  lookup(path: string): TreeNodeInfo | undefined;
  /** Whole content of a regular file (callers only read small files: package databases, lists). */
  readFile(path: string): Promise<Buffer>;
  /**
   * The path a name refers to once symlinks in its *parent* components are followed inside the
   * tree (`lib/x` -> `usr/lib/x` when `lib` -> `usr/lib`); the last component is not followed.
   * Returns the input unchanged when nothing on the way is a symlink.
   */
  resolveParents(path: string): string;
}

export interface TreeNodeInfo {
  type: EntryType;
  size: number;
  linkname: string;
  xattrs: ReadonlyMap<string, Buffer>;
  /** Paths sharing this node's inode (hardlink set), including itself; length 1 when not linked. */
  links: readonly string[];
}

/** 'tree': a directory subtree of unclaimed files, split out when no package database covers it. */
export type ComponentKind = 'deb' | 'rpm' | 'xattr' | 'bigfile' | 'pkgdb' | 'cache' | 'tree' | 'unclaimed';

export interface Component {
  /** Stable, unique name: 'deb:coreutils' (binary package), 'rpm:glibc', 'xattr:VALUE', 'bigfile:usr/lib/x.so', 'cache', 'tree:opt/app', 'unclaimed'. */
  name: string;
  kind: ComponentKind;
  /** Non-directory paths it owns, byte order. Directories belong to no component. */
  paths: string[];
  /** Sum of the sizes of its regular files (a hardlink set counted once). */
  size: number;
  /**
   * Components that change together share a group: the binary packages built from one source
   * package ('deb:perl' for deb:perl-base and deb:perl-modules-5.36; 'rpm:SOURCE' for rpm). A
   * fresh plan packs a group into one layer, as chunkah groups rpms by source rpm; with a prior
   * plan an unchanged member stays where it was when a new one arrives.
   */
  group?: string;
  /** Extra facts for the planner: source package, version, change times... */
  meta?: Record<string, unknown>;
}
