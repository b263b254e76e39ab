/**
 * Which component owns each file of an image. Each claim source answers for the paths it knows
 * (xattr-claims, dpkg-claims, rpm-claims, pacman-claims, pycache-claims, database-claims,
 * big-files, and tree-groups for the rest); resolve-claims.ts applies the one precedence rule,
 * PRIORITY in claim-source.ts, and keeps every hardlink set whole.
 *
 * A package manager's component is one binary package, grouped with the others of its source
 * package (Component.group): updates replace every binary of a source at once, so the planner
 * packs them together, but a binary installed later (git pulls in perl-modules beside perl-base)
 * must not make its unchanged siblings' layer change.
 */
import { byteOrder } from '../util/byte-order.js';
import { cacheWarning, databaseClaims } from './database-claims.js';
import { bigFileSource } from './big-files.js';
import { dpkgClaims } from './dpkg-claims.js';
import { pacmanClaims } from './pacman-claims.js';
import { pycacheClaims } from './pycache-claims.js';
import { resolveClaims } from './resolve-claims.js';
import { rpmClaims } from './rpm-claims.js';
import { subtreeRemainder } from './tree-groups.js';
import type { Component, ComponentMeta, TreeView } from './types.js';
import { xattrClaims } from './xattr-claims.js';

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

export async function detectComponents(tree: TreeView, opts: DetectOptions = {}): Promise<DetectResult> {
  const packages = [
    await dpkgClaims(tree, { changelogs: opts.changelogs !== false }),
    await rpmClaims(tree),
    await pacmanClaims(tree),
  ];
  const warnings = packages.flatMap((p) => p.warnings);
  const databases = databaseClaims(
    tree,
    packages.flatMap((p) => p.databaseDirs),
  );
  const lists = packages.map((p) => p.claims(databases.covers));
  const xattrs = xattrClaims(tree);
  const { owners, contested, splitSets } = resolveClaims(tree, {
    paths: [xattrs, ...lists, pycacheClaims(lists), databases],
    units: [bigFileSource(tree, opts.bigFileBytes ?? 1024 * 1024)],
    remainder: subtreeRemainder(),
  });

  const components: Component[] = [];
  for (const [name, { claim, paths, size }] of owners) {
    paths.sort(byteOrder);
    const { kind, group, meta: known } = claim.facts;
    const c: Component = { name, kind, paths, size };
    if (group !== undefined) c.group = group;
    const meta: ComponentMeta = { ...known };
    const interval = xattrs.updateIntervalDays(paths);
    if (interval !== undefined) meta.updateIntervalDays = interval;
    if (Object.keys(meta).length > 0) c.meta = meta;
    components.push(c);
  }
  components.sort((a, b) => byteOrder(a.name, b.name));

  if (contested.length > 0) {
    const examples = contested.slice(0, 3).join(', ');
    warnings.push(
      `${contested.length} path(s) listed by more than one package, kept with the package whose name sorts first ` +
        `(e.g. ${examples})`,
    );
  }
  const cache = components.find((c) => c.name === 'cache');
  const cost = cache === undefined ? undefined : cacheWarning(cache.size, cache.paths);
  if (cost !== undefined) warnings.push(cost);
  if (splitSets > 0) {
    warnings.push(
      `${splitSets} hardlink set(s) had paths claimed by different components; each set was kept whole with the ` +
        'owner of its first claimed path',
    );
  }
  return { components, warnings };
}
