/**
 * pacman's claims: each installed package's files as its local database lists them, resolved
 * through symlinked parents. Components are `pacman:NAME`, grouped by `%BASE%` (the PKGBUILD that
 * built them, as chunkah groups them); `%BUILDDATE%` is the one change time the database records.
 */
import { ClaimTable, PRIORITY, type Claim } from './claim-source.js';
import type { PackageClaims } from './package-claims.js';
import { PACMAN_LOCAL_DIRS, readPacmanDatabase } from './pacman.js';
import type { ComponentMeta, TreeView } from './types.js';

export async function pacmanClaims(tree: TreeView): Promise<PackageClaims> {
  const db = await readPacmanDatabase(tree);
  const pkgs = db?.packages ?? [];
  const claims: Claim[] = pkgs.map((p) => {
    const { name, version, arch, size } = p;
    const built = p.buildDate === undefined ? {} : { buildTime: p.buildDate };
    const meta: ComponentMeta = { source: p.base, packages: [{ name, version, arch, size, ...built }], ...built };
    if (p.buildDate !== undefined) meta.changeTimes = [p.buildDate];
    // pacman installs one package of a name, so the name alone is unique.
    const facts = { kind: 'pacman' as const, group: `pacman:${p.base}`, meta };
    return { component: `pacman:${name}`, priority: PRIORITY.packageList, tieKey: name, facts };
  });
  // The sync databases beside `local` are refreshed by `pacman -Sy`: database-claims.ts has them as a cache.
  const custom = db === undefined || PACMAN_LOCAL_DIRS.includes(db.dir) ? [] : [db.dir];
  return {
    databaseDirs: [...custom, ...PACMAN_LOCAL_DIRS],
    warnings: db?.warnings ?? [],
    claims(excluded) {
      const table = new ClaimTable();
      for (const [i, p] of pkgs.entries()) {
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
