/**
 * dpkg's claims: each installed package's listed files (PRIORITY.packageList) and its own files in
 * the database, `var/lib/dpkg/info/NAME[:ARCH].*` (PRIORITY.packageInfo): list, md5sums and
 * maintainer scripts change exactly when the package does, and left in the volatile database
 * component every update would download all of them again (5.7 MB on the corpus).
 */
import { debianChangeTimes } from './changelog.js';
import { ClaimTable, PRIORITY, type Claim, type ComponentFacts } from './claim-source.js';
import { DPKG_DIR, readDpkgDatabase } from './dpkg.js';
import { unitNames, type PackageClaims } from './package-claims.js';
import type { ComponentMeta, TreeView } from './types.js';
import { mapLimit } from '../util/concurrency.js';

/** debconf's answers: maintainer scripts rewrite them on every install, so they are database state. */
const DEBCONF_DIR = 'var/cache/debconf';
const DPKG_INFO = `${DPKG_DIR}/info/`;
const CHANGELOGS_AT_ONCE = 8;

export async function dpkgClaims(tree: TreeView, opts: { changelogs: boolean }): Promise<PackageClaims> {
  const db = await readDpkgDatabase(tree);
  const debs = db?.packages ?? [];
  const names = unitNames('deb', debs, (p) => [p.name, `${p.name}:${p.arch}`]);
  // Several at once: each is inflated on the thread pool, so both cores take a share.
  const ownTimes = opts.changelogs
    ? await mapLimit(debs, CHANGELOGS_AT_ONCE, (p) => debianChangeTimes(tree, p.name, p.arch))
    : debs.map(() => []);
  // A binary package without a changelog of its own (docs stripped) has its source's history.
  const sourceTimes = new Map<string, number[]>();
  for (const [i, p] of debs.entries()) {
    const times = ownTimes[i]!;
    if (times.length > 0 && !sourceTimes.has(p.source)) sourceTimes.set(p.source, times);
  }
  const listClaims: Claim[] = [];
  const infoOf = new Map<string, Claim>();
  for (const [i, p] of debs.entries()) {
    const { name, arch, version, sourceVersion, installedSizeKiB } = p;
    const pkg = { name, arch, version, sourceVersion, installedSizeKiB };
    const meta: ComponentMeta = { source: p.source, packages: [pkg] };
    const times = ownTimes[i]!.length > 0 ? ownTimes[i] : sourceTimes.get(p.source);
    if (times !== undefined) meta.changeTimes = times;
    const facts: ComponentFacts = { kind: 'deb', group: `deb:${p.source}`, meta };
    const component = names[i]!;
    listClaims.push({ component, priority: PRIORITY.packageList, tieKey: name, facts });
    const info: Claim = { component, priority: PRIORITY.packageInfo, tieKey: name, facts };
    for (const stem of [name, `${name}:${arch}`]) infoOf.set(stem, info);
  }
  return {
    databaseDirs: [DPKG_DIR, DEBCONF_DIR],
    warnings: db?.warnings ?? [],
    claims(excluded) {
      const table = new ClaimTable();
      for (const [i, p] of debs.entries()) {
        for (const path of p.paths) if (!excluded(path)) table.add(path, listClaims[i]!);
      }
      return {
        claimsFor(path) {
          const listed = table.claimsFor(path);
          const info = infoClaim(path, infoOf);
          return info === undefined ? listed : [...listed, info];
        },
      };
    },
  };
}

/** `var/lib/dpkg/info/NAME[:ARCH].EXT` -> the claim of package NAME. */
function infoClaim(path: string, infoOf: ReadonlyMap<string, Claim>): Claim | undefined {
  if (!path.startsWith(DPKG_INFO)) return undefined;
  const base = path.slice(DPKG_INFO.length);
  const dot = base.lastIndexOf('.');
  return dot > 0 && !base.includes('/') ? infoOf.get(base.slice(0, dot)) : undefined;
}
