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
export type ComponentKind = 'deb' | 'rpm' | 'pacman' | 'xattr' | 'bigfile' | 'pkgdb' | 'cache' | 'tree' | 'unclaimed';

/** One installed package as its database records it; which fields are set depends on the manager. */
export interface PackageFacts {
  name: string;
  version: string;
  arch?: string;
  /** rpm only; absent when the package has none (not the same as epoch 0). */
  epoch?: number;
  release?: string;
  /** dpkg: the source package's version, when it differs from the binary's. */
  sourceVersion?: string;
  /** dpkg's `Installed-Size` (KiB, an estimate made at build time). */
  installedSizeKiB?: number;
  /** Installed size in bytes (rpm, pacman). */
  size?: number;
  /** Seconds since the epoch (rpm BUILDTIME, pacman %BUILDDATE%). */
  buildTime?: number;
}

/** What detectors know of a component beyond its paths; every field is optional. */
export interface ComponentMeta {
  /** Source package (deb), source rpm name (rpm) or %BASE% (pacman). */
  source?: string;
  packages?: PackageFacts[];
  /** rpm BUILDTIME / pacman %BUILDDATE% of the package, seconds. */
  buildTime?: number;
  /** Seconds since the epoch when the component changed (changelog entries, build dates), newest first. */
  changeTimes?: number[];
  /** The smallest `user.update-interval` among its paths, in days. */
  updateIntervalDays?: number;
  /** The `user.component` value of an xattr component. */
  value?: string;
}

export interface Component {
  /**
   * Stable, unique name: 'deb:coreutils' (binary package), 'rpm:glibc', 'pacman:bash', 'xattr:VALUE',
   * 'bigfile:usr/lib/x.so', 'pkgdb', 'cache', 'tree:opt/app', 'unclaimed'.
   */
  name: string;
  kind: ComponentKind;
  /** Non-directory paths it owns, byte order. Directories belong to no component. */
  paths: string[];
  /** Sum of the sizes of its regular files (a hardlink set counted once). */
  size: number;
  /**
   * Components that change together share a group: the binary packages built from one source
   * package ('deb:perl' for deb:perl-base and deb:perl-modules-5.36; 'rpm:SOURCE'; 'pacman:BASE'). A
   * fresh plan packs a group into one layer, as chunkah groups rpms by source rpm; with a prior
   * plan an unchanged member stays where it was when a new one arrives.
   */
  group?: string;
  /** Extra facts for the planner: source package, versions, change times... */
  meta?: ComponentMeta;
}
