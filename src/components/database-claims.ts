/**
 * Rule 4 of PRIORITY: the package databases themselves ('pkgdb') and package-manager caches
 * ('cache'). A database changes on every update, so it must stay apart from what it describes,
 * and a package list cannot claim a database path (rpm lists its own rpmdb.sqlite as %ghost;
 * chunkah ignores such claims for the same reason). debconf's `var/cache/debconf` is database
 * state: maintainer scripts rewrite it on every install. Caches (apt's lists and archives, dnf's,
 * yum's, zypper's, pacman's) are rewritten by every refresh and can be hundreds of MB; a run that
 * finds them says that a clean in the build saves their size on every update.
 */
import { PRIORITY, type Claim, type ClaimSource } from './claim-source.js';
import type { TreeView } from './types.js';

const CACHE_DIRS = [
  'var/lib/apt/lists',
  'var/cache/apt',
  'var/cache/dnf',
  'var/cache/yum',
  'var/cache/libdnf5',
  'var/cache/zypp',
  'var/lib/pacman/sync',
  'var/cache/pacman',
];
/** A cache at least this large is worth a warning. */
const CACHE_WARN_BYTES = 1024 * 1024;

const PKGDB: Claim = { component: 'pkgdb', priority: PRIORITY.database, tieKey: '', facts: { kind: 'pkgdb' } };
const CACHE: Claim = { component: 'cache', priority: PRIORITY.cache, tieKey: '', facts: { kind: 'cache' } };

export interface DatabaseClaims extends ClaimSource {
  /** True for a path inside a database or a cache: no package list may claim it. */
  covers(path: string): boolean;
}

/** `databaseDirs`: every directory that holds package-manager state, as the readers know them. */
export function databaseClaims(tree: TreeView, databaseDirs: readonly string[]): DatabaseClaims {
  const isPkgdb = under(tree, databaseDirs);
  const isCache = under(tree, CACHE_DIRS);
  return {
    claimsFor: (path) => (isPkgdb(path) ? [PKGDB] : isCache(path) ? [CACHE] : []),
    covers: (path) => isPkgdb(path) || isCache(path),
  };
}

/** What the caches in the image cost per update, when that is worth saying. */
export function cacheWarning(size: number, paths: readonly string[]): string | undefined {
  if (size < CACHE_WARN_BYTES) return undefined;
  const dirs = CACHE_DIRS.filter((d) => paths.some((p) => p.startsWith(`${d}/`))).join(', ');
  return (
    `${(size / 1e6).toFixed(1)} MB of package-manager caches (${dirs}) are in the image; they change with every ` +
    'update, so cleaning them in the build (apt-get clean and rm -rf /var/lib/apt/lists/*, dnf clean all, ' +
    'or pacman -Scc) saves that much per update'
  );
}

/** A test for paths at or below any of `dirs`, also where a symlinked parent moved them. */
function under(tree: TreeView, dirs: readonly string[]): (p: string) => boolean {
  const all = new Set<string>();
  for (const d of dirs) {
    all.add(d);
    all.add(tree.resolveParents(`${d}/x`).slice(0, -2));
  }
  // The prefixes once, not a new string per test: this runs for every path of the image.
  const prefixes = [...all].map((d) => [d, `${d}/`] as const);
  return (p) => {
    for (const [d, prefix] of prefixes) if (p === d || p.startsWith(prefix)) return true;
    return false;
  };
}
