/**
 * Which component owns each file of an image. A package manager's component is one binary
 * package, grouped with the others of its source package (Component.group): updates replace every
 * binary of a source at once, so the planner packs them together, but a binary installed later
 * (git pulls in perl-modules beside perl-base) must not make its unchanged siblings' layer change.
 * One precedence rule decides every path that two sources claim, highest first:
 *
 *  1. `user.component` xattr, own or inherited: an explicit statement by the image's author
 *     beats anything inferred.
 *  2. A package manager's file list (dpkg or rpm). When two packages list the same path, the
 *     package whose name sorts first in byte order wins (stable across builds), and a warning
 *     counts such paths. A package's list is taken to include the bytecode caches of its
 *     Python files (`d/__pycache__/m.*.pyc` next to a listed `d/m.py`): py3compile writes them
 *     from the package's postinst, they change exactly when the .py does, and on Debian they are
 *     most of what no list names (11.6 of 14 MB unclaimed in the corpus without this).
 *  3. dpkg's per-package files (`var/lib/dpkg/info/NAME.*`: list, md5sums, maintainer scripts)
 *     go with their package: they change exactly when it does, and in the volatile database
 *     layer every update would download all of them again (5.7 MB on the corpus).
 *  4. The package databases themselves (the rest of `var/lib/dpkg/**`, rpmdb directories, and
 *     debconf's `var/cache/debconf/**`, which maintainer scripts rewrite on every install) ->
 *     'pkgdb'. They change on every update, so they must stay apart from what they describe. A
 *     package list cannot claim a database path (rpm lists its own rpmdb.sqlite as %ghost;
 *     chunkah ignores such claims for the same reason). Package-manager caches (apt's
 *     `var/lib/apt/lists` and `var/cache/apt`, dnf's and yum's, zypper's) -> 'cache', kept apart
 *     from the database: they are rewritten by every `apt-get update` and can be hundreds of MB,
 *     and a run that finds them says that a clean in the build saves their size on every update.
 *  5. An unclaimed regular file of at least `bigFileBytes` -> its own 'bigfile:PATH'.
 *  6. Everything else -> 'unclaimed'; when that is more than a few MB (no package database
 *     covers the image, or an application was copied in), its big directory subtrees become
 *     'tree:PREFIX' components (see tree-groups.ts).
 *
 * A hardlink set is never split (a split set is duplicated data, chunkah #146): all its paths go
 * to the owner, by rules 1-4, of its first path in byte order that has one; when none has, the
 * set is one unit for rules 5-6, named after its first path.
 */
import { RechunkerError } from '../errors.js';
import { debianChangeTimes } from './changelog.js';
import { DPKG_DIR, readDpkgDatabase, type DebPackage } from './dpkg.js';
import { RPMDB_DIRS, readRpmDatabase, type RpmPackage } from './rpm.js';
import { groupByTree, type Unit } from './tree-groups.js';
import type { Component, ComponentKind, TreeView } from './types.js';
import { xattrFacts } from './xattr.js';

export interface DetectOptions {
  /** Unclaimed regular files at least this large get their own component. Default 1 MiB. */
  bigFileBytes?: number;
  /** Read Debian changelogs for change dates (meta.changeTimes). Default true. */
  changelogs?: boolean;
}

export interface DetectResult {
  components: Component[];
  warnings: string[];
}

const DEBCONF_DIR = 'var/cache/debconf';
const CACHE_DIRS = ['var/lib/apt/lists', 'var/cache/apt', 'var/cache/dnf', 'var/cache/yum', 'var/cache/libdnf5', 'var/cache/zypp'];
/** A cache at least this large is worth a warning. */
const CACHE_WARN_BYTES = 1024 * 1024;

interface Claim {
  component: string;
  pkg: string;
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const isRegular = (t: string): boolean => t === 'file' || t === 'hardlink';

export async function detectComponents(tree: TreeView, opts: DetectOptions = {}): Promise<DetectResult> {
  const bigFileBytes = opts.bigFileBytes ?? 1024 * 1024;
  const warnings: string[] = [];

  const isPkgdb = under(tree, [DPKG_DIR, DEBCONF_DIR, ...RPMDB_DIRS]);
  const isCache = under(tree, CACHE_DIRS);

  // Rule 2 input: path -> package claim, with the byte-order tie-break applied as claims arrive.
  const listed = new Map<string, Claim>();
  const contested = new Set<string>();
  const claim = (path: string, c: Claim): void => {
    if (isPkgdb(path) || isCache(path)) return;
    const prev = listed.get(path);
    if (prev === undefined) {
      listed.set(path, c);
      return;
    }
    if (prev.pkg === c.pkg && prev.component === c.component) return;
    contested.add(path);
    if (byteOrder(c.pkg, prev.pkg) < 0 || (c.pkg === prev.pkg && byteOrder(c.component, prev.component) < 0)) listed.set(path, c);
  };

  const meta = new Map<string, Record<string, unknown>>();
  const groupOf = new Map<string, string>();
  const debs = await loadDpkg(tree, warnings);
  const debNames = unitNames('deb', debs, (p) => [p.name, `${p.name}:${p.arch}`]);
  const infoStems = new Map<string, string>();
  const debTimes: number[][] = [];
  // A binary package without a changelog of its own (docs stripped) has its source's history.
  const sourceTimes = new Map<string, number[]>();
  for (const [i, p] of debs.entries()) {
    const name = debNames[i]!;
    groupOf.set(name, `deb:${p.source}`);
    for (const path of p.paths) claim(path, { component: name, pkg: p.name });
    for (const stem of [p.name, `${p.name}:${p.arch}`]) infoStems.set(stem, name);
    const times = opts.changelogs === false ? [] : await debianChangeTimes(tree, p.name, p.arch);
    debTimes.push(times);
    if (times.length > 0 && !sourceTimes.has(p.source)) sourceTimes.set(p.source, times);
  }
  for (const [i, p] of debs.entries()) {
    const m: Record<string, unknown> = {
      source: p.source,
      packages: [{ name: p.name, arch: p.arch, version: p.version, sourceVersion: p.sourceVersion, installedSizeKiB: p.installedSizeKiB }],
    };
    const times = debTimes[i]!.length > 0 ? debTimes[i] : sourceTimes.get(p.source);
    if (times !== undefined) m.changeTimes = times;
    meta.set(debNames[i]!, m);
  }

  const rpms = await loadRpm(tree, warnings);
  const rpmNames = unitNames('rpm', rpms, (p) => [p.name, `${p.name}.${p.arch}`, `${p.name}-${p.epoch === undefined ? '' : `${p.epoch}:`}${p.version}-${p.release}.${p.arch}`]);
  for (const [i, p] of rpms.entries()) {
    const name = rpmNames[i]!;
    groupOf.set(name, `rpm:${p.sourceName}`);
    for (const f of p.files) {
      const real = tree.resolveParents(f);
      const node = tree.lookup(real);
      if (node !== undefined && node.type !== 'dir') claim(real, { component: name, pkg: p.name });
    }
    meta.set(name, {
      source: p.sourceName,
      packages: [{ name: p.name, ...(p.epoch === undefined ? {} : { epoch: p.epoch }), version: p.version, release: p.release, arch: p.arch, size: p.size, buildTime: p.buildTime }],
      buildTime: p.buildTime,
      changeTimes: [...new Set(p.changelogTimes)].sort((a, b) => b - a),
    });
  }
  claimPycache(tree, listed);
  if (contested.size > 0) {
    const examples = [...contested].sort(byteOrder).slice(0, 3).join(', ');
    warnings.push(`${contested.size} path(s) listed by more than one package, kept with the package whose name sorts first (e.g. ${examples})`);
  }

  const xattrs = xattrFacts(tree);
  const ruleOwner = (p: string): string | undefined => {
    const x = xattrs.get(p)?.component;
    if (x !== undefined) return `xattr:${x}`;
    const l = listed.get(p);
    if (l !== undefined) return l.component;
    const info = dpkgInfoOwner(p, infoStems);
    if (info !== undefined) return info;
    return isPkgdb(p) ? 'pkgdb' : isCache(p) ? 'cache' : undefined;
  };

  const owned = new Map<string, { kind: ComponentKind; paths: string[]; size: number; interval?: number }>();
  const assign = (name: string, kind: ComponentKind, paths: readonly string[], size: number): void => {
    let c = owned.get(name);
    if (c === undefined) owned.set(name, (c = { kind, paths: [], size: 0 }));
    c.paths.push(...paths);
    c.size += size;
    for (const p of paths) {
      const d = xattrs.get(p)?.updateIntervalDays;
      if (d !== undefined && (c.interval === undefined || d < c.interval)) c.interval = d;
    }
  };

  const done = new Set<string>();
  const unclaimed: Unit[] = [];
  let splitSets = 0;
  for (const path of tree.paths()) {
    const node = tree.lookup(path);
    if (node === undefined || node.type === 'dir' || done.has(path)) continue;
    // A unit is a path alone, or its whole hardlink set (only members that are in the tree).
    const members = node.links.length > 1 ? unitOf(tree, path, node.links) : [path];
    let size = 0;
    for (const m of members) {
      done.add(m);
      const n = tree.lookup(m)!;
      if (isRegular(n.type)) size = Math.max(size, n.size);
    }
    const owners = members.map(ruleOwner);
    const first = owners.find((o) => o !== undefined);
    if (first !== undefined) {
      if (owners.some((o) => o !== undefined && o !== first)) splitSets++;
      assign(first, kindOf(first), members, size);
    } else if (size >= bigFileBytes && members.some((m) => isRegular(tree.lookup(m)!.type))) {
      assign(`bigfile:${members[0]}`, 'bigfile', members, size);
    } else {
      unclaimed.push({ members, size });
    }
  }
  const { groups, rest } = groupByTree(unclaimed);
  for (const g of groups) for (const u of g.units) assign(`tree:${g.prefix || '/'}`, 'tree', u.members, u.size);
  for (const u of rest) assign('unclaimed', 'unclaimed', u.members, u.size);
  const cache = owned.get('cache');
  if (cache !== undefined && cache.size >= CACHE_WARN_BYTES) {
    warnings.push(`${(cache.size / 1e6).toFixed(1)} MB of package-manager caches (${CACHE_DIRS.filter((d) => cache.paths.some((p) => p.startsWith(`${d}/`))).join(', ')}) are in the image; they change with every update, so cleaning them in the build (apt-get clean and rm -rf /var/lib/apt/lists/*, or dnf clean all) saves that much per update`);
  }
  if (splitSets > 0) {
    warnings.push(`${splitSets} hardlink set(s) had paths claimed by different components; each set was kept whole with the owner of its first claimed path`);
  }

  const components: Component[] = [];
  for (const [name, c] of owned) {
    const m: Record<string, unknown> = { ...(meta.get(name) ?? {}) };
    if (c.kind === 'xattr') m.value = name.slice('xattr:'.length);
    if (c.interval !== undefined) m.updateIntervalDays = c.interval;
    const comp: Component = { name, kind: c.kind, paths: c.paths.sort(byteOrder), size: c.size };
    const group = groupOf.get(name);
    if (group !== undefined) comp.group = group;
    if (Object.keys(m).length > 0) comp.meta = m;
    components.push(comp);
  }
  components.sort((a, b) => byteOrder(a.name, b.name));
  return { components, warnings };
}

/**
 * Component names for installed packages: `deb:NAME` / `rpm:NAME`, qualified by the next form
 * `forms` gives (architecture, then version) only where a shorter name is shared: a second
 * architecture of a library, or two kernels installed side by side.
 */
function unitNames<P>(kind: 'deb' | 'rpm', pkgs: readonly P[], forms: (p: P) => string[]): string[] {
  const all = pkgs.map(forms);
  const uses = new Map<string, number>();
  for (const f of all) f.forEach((name, level) => uses.set(`${level}\0${name}`, (uses.get(`${level}\0${name}`) ?? 0) + 1));
  return all.map((f) => {
    const level = f.findIndex((name, l) => uses.get(`${l}\0${name}`) === 1);
    return `${kind}:${f[level < 0 ? f.length - 1 : level]}`;
  });
}

const DPKG_INFO = `${DPKG_DIR}/info/`;

/** `var/lib/dpkg/info/NAME[:ARCH].EXT` -> the component of package NAME (rule 3). */
function dpkgInfoOwner(path: string, stems: ReadonlyMap<string, string>): string | undefined {
  if (!path.startsWith(DPKG_INFO)) return undefined;
  const base = path.slice(DPKG_INFO.length);
  const dot = base.lastIndexOf('.');
  return dot > 0 && !base.includes('/') ? stems.get(base.slice(0, dot)) : undefined;
}

const PYC = /^(.*)\/__pycache__\/([^/.]+)\.[^/]*\.pyc$/;

/** Unlisted `__pycache__` files go with the package listing their source (see rule 2). */
function claimPycache(tree: TreeView, listed: Map<string, Claim>): void {
  for (const path of tree.paths()) {
    if (listed.has(path)) continue;
    const m = PYC.exec(path);
    if (m === null) continue;
    const owner = listed.get(`${m[1]}/${m[2]}.py`);
    if (owner !== undefined && tree.lookup(path)?.type !== 'dir') listed.set(path, owner);
  }
}

/** A test for paths at or below any of `dirs`, also where a symlinked parent moved them. */
function under(tree: TreeView, dirs: readonly string[]): (p: string) => boolean {
  const all = new Set<string>();
  for (const d of dirs) {
    all.add(d);
    all.add(tree.resolveParents(`${d}/x`).slice(0, -2));
  }
  return (p) => {
    for (const d of all) if (p === d || p.startsWith(`${d}/`)) return true;
    return false;
  };
}

function kindOf(name: string): ComponentKind {
  if (name === 'pkgdb' || name === 'cache') return name;
  const prefix = name.slice(0, name.indexOf(':'));
  if (prefix === 'deb' || prefix === 'rpm' || prefix === 'xattr') return prefix;
  throw new Error(`bug: rule owner ${name} has no kind`);
}

/** The hardlink set of `path`, restricted to non-directory paths the tree has, byte order. */
function unitOf(tree: TreeView, path: string, links: readonly string[]): string[] {
  const set = new Set<string>([path]);
  for (const l of links) {
    const n = tree.lookup(l);
    if (n !== undefined && n.type !== 'dir') set.add(l);
  }
  return [...set].sort(byteOrder);
}

async function loadDpkg(tree: TreeView, warnings: string[]): Promise<DebPackage[]> {
  const db = await readDpkgDatabase(tree);
  if (db === undefined) return [];
  warnings.push(...db.warnings);
  return db.packages;
}

/** An unreadable rpm database is not fatal: its packages' files fall through to rules 5-6. */
async function loadRpm(tree: TreeView, warnings: string[]): Promise<RpmPackage[]> {
  try {
    return (await readRpmDatabase(tree))?.packages ?? [];
  } catch (err) {
    if (err instanceof RechunkerError && err.code === 'UNSUPPORTED') {
      warnings.push(`${err.message}; its packages' files are treated as unclaimed`);
      return [];
    }
    throw err;
  }
}
