/**
 * Installed pacman (ALPM) packages, from the local database as chunkah reads it: one directory
 * per package, `local/NAME-VERSION-REL/`, holding `desc` (sections `%NAME%`, `%VERSION%`, `%BASE%`,
 * `%BUILDDATE%`, ...; alpm-db-desc(5)) and `files` (`%FILES%`, paths relative to the root,
 * directories with a trailing '/'; alpm-db-files(5)). Text is decoded as latin1 byte strings so
 * that listed paths compare byte for byte with the tree's (tar/entry.ts).
 */
import type { TreeView } from './types.js';

/** Arch's own place first, then where ghcr.io/bootcrew/arch-bootc keeps it (as chunkah looks). */
export const PACMAN_LOCAL_DIRS = ['var/lib/pacman/local', 'usr/lib/sysimage/lib/pacman/local'];
const PACMAN_CONF = 'etc/pacman.conf';
/** A `desc` or `files` larger than this is not one (chunkah's bound too). */
const MAX_DB_FILE = 64 * 1024 * 1024;

export interface PacmanPackage {
  name: string;
  version: string;
  /** `%BASE%`, the PKGBUILD's pkgbase; the package name when absent. */
  base: string;
  arch: string;
  /** `%BUILDDATE%`, seconds; undefined when absent or not a number. */
  buildDate?: number;
  /** `%SIZE%`, installed bytes. */
  size: number;
  /** Non-directory paths as `files` lists them: relative, not resolved. */
  files: string[];
}

export interface PacmanDatabase {
  /** The `local` directory that was read. */
  dir: string;
  packages: PacmanPackage[];
  warnings: string[];
}

/** Sections of an ALPM database file: `%NAME%` header lines, each followed by its value lines. */
export function parseAlpmSections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of text.split('\n')) {
    const header = /^%([A-Z0-9_]+)%$/.exec(line);
    if (header !== null) {
      cur = [];
      out.set(header[1]!, cur);
    } else if (cur !== undefined && line !== '') {
      cur.push(line);
    }
  }
  return out;
}

/** The DBPath pacman.conf sets, as a relative path, or undefined. */
export function pacmanConfDbPath(conf: string): string | undefined {
  for (const line of conf.split('\n')) {
    const m = /^\s*DBPath\s*=\s*(.*?)\s*$/.exec(line);
    if (m !== null && m[1] !== '') return m[1]!.replace(/^\/+/, '').replace(/\/+$/, '');
  }
  return undefined;
}

async function readText(tree: TreeView, path: string): Promise<string | undefined> {
  const node = tree.lookup(path);
  const regular = node !== undefined && (node.type === 'file' || node.type === 'hardlink');
  if (!regular || node.size > MAX_DB_FILE) return undefined;
  return (await tree.readFile(path)).toString('latin1');
}

/** The `local` database directory of a tree, or undefined when it has none. */
async function findLocalDir(tree: TreeView): Promise<string | undefined> {
  const conf = await readText(tree, tree.resolveParents(PACMAN_CONF));
  const custom = conf === undefined ? undefined : pacmanConfDbPath(conf);
  for (const dir of [...(custom === undefined ? [] : [`${custom}/local`]), ...PACMAN_LOCAL_DIRS]) {
    const real = tree.resolveParents(`${dir}/x`).slice(0, -2);
    if (tree.lookup(real)?.type === 'dir') return real;
  }
  return undefined;
}

/** The local pacman database of a tree, or undefined when there is none. */
export async function readPacmanDatabase(tree: TreeView): Promise<PacmanDatabase | undefined> {
  const dir = await findLocalDir(tree);
  if (dir === undefined) return undefined;
  const warnings: string[] = [];
  const packages: PacmanPackage[] = [];
  const prefix = `${dir}/`;
  for (const path of tree.paths()) {
    // Only `local/ENTRY/desc`: every package directory has one.
    if (!path.startsWith(prefix) || !path.endsWith('/desc')) continue;
    const entry = path.slice(prefix.length, -'/desc'.length);
    if (entry.includes('/')) continue;
    const desc = await readText(tree, path);
    const d = desc === undefined ? undefined : parseAlpmSections(desc);
    const name = d?.get('NAME')?.[0];
    if (d === undefined || name === undefined) {
      warnings.push(`pacman: no %NAME% in ${path}; that package's files are treated as unclaimed`);
      continue;
    }
    const files = parseAlpmSections((await readText(tree, `${prefix}${entry}/files`)) ?? '').get('FILES') ?? [];
    const built = Number(d.get('BUILDDATE')?.[0]);
    const size = Number(d.get('SIZE')?.[0]);
    const pkg: PacmanPackage = {
      name,
      version: d.get('VERSION')?.[0] ?? '',
      base: d.get('BASE')?.[0] ?? name,
      arch: d.get('ARCH')?.[0] ?? '',
      size: Number.isFinite(size) ? size : 0,
      files: files.filter((f) => !f.endsWith('/')).map((f) => f.replace(/^\/+/, '')),
    };
    if (Number.isFinite(built) && built > 0) pkg.buildDate = built;
    packages.push(pkg);
  }
  packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { dir, packages, warnings };
}
