/**
 * What every package manager's claim source has in common (dpkg-claims.ts, rpm-claims.ts,
 * pacman-claims.ts): one component per binary package, grouped by its source package, claiming
 * the files its database lists at PRIORITY.packageList with the package name as the tie key.
 */
import type { ClaimSource } from './claim-source.js';

export interface PackageClaims {
  /** Where the manager keeps its state (the 'pkgdb' rule), whether or not a database was found. */
  databaseDirs: readonly string[];
  warnings: string[];
  /** The claims of its packages; a path for which `excluded` is true (a database) is never claimed. */
  claims(excluded: (path: string) => boolean): ClaimSource;
}

/**
 * Component names for installed packages: `KIND:NAME`, qualified by the next form `forms` gives
 * (architecture, then version) only where a shorter name is shared: a second architecture of a
 * library, or two kernels installed side by side.
 */
export function unitNames<P>(kind: string, pkgs: readonly P[], forms: (p: P) => string[]): string[] {
  const all = pkgs.map(forms);
  const uses = new Map<string, number>();
  for (const f of all) {
    f.forEach((name, level) => uses.set(`${level}\0${name}`, (uses.get(`${level}\0${name}`) ?? 0) + 1));
  }
  return all.map((f) => {
    const level = f.findIndex((name, l) => uses.get(`${l}\0${name}`) === 1);
    return `${kind}:${f[level < 0 ? f.length - 1 : level]}`;
  });
}
