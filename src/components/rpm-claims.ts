/**
 * rpm's claims: each installed package's files, as its header in the rpm database lists them,
 * resolved through symlinked parents (`/lib/x` is `usr/lib/x` on a merged-/usr system). One
 * component per binary package, grouped by source rpm as chunkah groups them.
 */
import { RechunkerError } from '../errors.js';
import { ClaimTable, PRIORITY, type Claim } from './claim-source.js';
import { unitNames, type PackageClaims } from './package-claims.js';
import { RPMDB_DIRS, readRpmDatabase, type RpmPackage } from './rpm.js';
import type { TreeView } from './types.js';

export async function rpmClaims(tree: TreeView): Promise<PackageClaims> {
  const warnings: string[] = [];
  const rpms = await loadRpm(tree, warnings);
  const names = unitNames('rpm', rpms, (p) => [p.name, `${p.name}.${p.arch}`, `${p.name}-${evr(p)}.${p.arch}`]);
  const claims: Claim[] = rpms.map((p, i) => {
    const { name, version, release, arch, size, buildTime } = p;
    const pkg = { name, ...(p.epoch === undefined ? {} : { epoch: p.epoch }), version, release, arch, size, buildTime };
    const meta = {
      source: p.sourceName,
      packages: [pkg],
      buildTime,
      changeTimes: [...new Set(p.changelogTimes)].sort((a, b) => b - a),
    };
    const facts = { kind: 'rpm' as const, group: `rpm:${p.sourceName}`, meta };
    return { component: names[i]!, priority: PRIORITY.packageList, tieKey: name, facts };
  });
  return {
    databaseDirs: RPMDB_DIRS,
    warnings,
    claims(excluded) {
      const table = new ClaimTable();
      for (const [i, p] of rpms.entries()) {
        for (const f of p.files) {
          const real = tree.resolveParents(f);
          const node = tree.lookup(real);
          if (node !== undefined && node.type !== 'dir' && !excluded(real)) table.add(real, claims[i]!);
        }
      }
      return table;
    },
  };
}

const evr = (p: RpmPackage): string => `${p.epoch === undefined ? '' : `${p.epoch}:`}${p.version}-${p.release}`;

/** An unreadable rpm database is not fatal: its packages' files fall through to the later rules. */
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
