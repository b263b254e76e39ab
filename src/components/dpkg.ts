/**
 * Installed Debian packages and the files they own, from dpkg's own database:
 * `var/lib/dpkg/status` (deb822 stanzas) and `var/lib/dpkg/info/PKG[:ARCH].list`.
 *
 * Everything is decoded as latin1 byte strings so that listed paths compare byte for byte with
 * the tree's paths (tar/entry.ts).
 */
import { byteOrder } from '../util/byte-order.js';
import type { TreeView } from './types.js';

export const DPKG_DIR = 'var/lib/dpkg';

export interface DebPackage {
  name: string;
  arch: string;
  version: string;
  /** Source package name without the version in parentheses; the package name when absent. */
  source: string;
  sourceVersion: string;
  /** The `Installed-Size` field: KiB, as dpkg-gencontrol estimated it. */
  installedSizeKiB: number;
  /** Last word of `Status:` ('installed', 'half-configured', ...). */
  state: string;
  multiArch: string;
  /**
   * Non-directory paths the package owns that exist in the tree: no leading '/', diversions
   * applied, symlinked parents resolved (merged /usr: '/lib/x' lands on 'usr/lib/x'), byte order.
   */
  paths: string[];
}

export interface DpkgDatabase {
  packages: DebPackage[];
  warnings: string[];
}

/**
 * States in which a package's files are on disk. 'config-files' counts too: its remaining
 * conffiles are still in the tree and still that package's.
 */
const STATES_WITH_FILES = new Set([
  'installed',
  'half-configured',
  'unpacked',
  'half-installed',
  'triggers-awaited',
  'triggers-pending',
  'config-files',
]);

/** deb822 stanzas, field names lower-cased; continuation lines are joined with '\n'. */
export function parseDeb822(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let last = '';
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (cur.size > 0) out.push(cur);
      cur = new Map();
      last = '';
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last !== '') cur.set(last, `${cur.get(last)}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).toLowerCase();
    cur.set(last, line.slice(colon + 1).trim());
  }
  if (cur.size > 0) out.push(cur);
  return out;
}

export interface Diversion {
  from: string;
  to: string;
  /** Package that made the diversion; ':' for a local one (applies to every package). */
  by: string;
}

/** `var/lib/dpkg/diversions`: three lines per diversion (from, to, package). */
export function parseDiversions(text: string): Diversion[] {
  const lines = text.split('\n');
  const out: Diversion[] = [];
  for (let i = 0; i + 2 < lines.length; i += 3) {
    out.push({ from: lines[i]!, to: lines[i + 1]!, by: lines[i + 2]! });
  }
  return out;
}

/** Stanza fields -> package facts; undefined when the stanza is not a package with files. */
export function stanzaToPackage(s: Map<string, string>): Omit<DebPackage, 'paths'> | undefined {
  const name = s.get('package');
  const status = (s.get('status') ?? '').split(/\s+/);
  const state = status[2] ?? '';
  if (name === undefined || name === '' || !STATES_WITH_FILES.has(state)) return undefined;
  const version = s.get('version') ?? '';
  const src = /^(\S+)(?:\s*\(([^)]*)\))?/.exec(s.get('source') ?? '');
  const kib = Number.parseInt(s.get('installed-size') ?? '0', 10);
  return {
    name,
    arch: s.get('architecture') ?? '',
    version,
    source: src?.[1] ?? name,
    sourceVersion: src?.[2]?.trim() || version,
    installedSizeKiB: Number.isFinite(kib) ? kib : 0,
    state,
    multiArch: s.get('multi-arch') ?? '',
  };
}

function stripSlash(p: string): string {
  return p.replace(/^\/+/, '');
}

async function readText(tree: TreeView, path: string): Promise<string | undefined> {
  const node = tree.lookup(path);
  if (node === undefined || (node.type !== 'file' && node.type !== 'hardlink')) return undefined;
  return (await tree.readFile(path)).toString('latin1');
}

/** The dpkg database of a tree, or undefined when the tree has no `var/lib/dpkg/status`. */
export async function readDpkgDatabase(tree: TreeView): Promise<DpkgDatabase | undefined> {
  const dir = tree.resolveParents(`${DPKG_DIR}/status`).replace(/\/status$/, '');
  const status = await readText(tree, `${dir}/status`);
  if (status === undefined) return undefined;
  const warnings: string[] = [];

  // A diverted file of package P lives at `to` unless P made the diversion itself.
  const diversions = new Map<string, Diversion>();
  for (const d of parseDiversions((await readText(tree, `${dir}/diversions`)) ?? '')) {
    diversions.set(tree.resolveParents(stripSlash(d.from)), d);
  }

  const packages: DebPackage[] = [];
  for (const stanza of parseDeb822(status)) {
    const facts = stanzaToPackage(stanza);
    if (facts === undefined) continue;
    // Multi-Arch: same packages name their info files PKG:ARCH; try the other form as a fallback
    // because databases converted by older dpkg versions are not always consistent.
    const qualified = `${dir}/info/${facts.name}:${facts.arch}.list`;
    const plain = `${dir}/info/${facts.name}.list`;
    const candidates = facts.multiArch === 'same' ? [qualified, plain] : [plain, qualified];
    let list: string | undefined;
    for (const c of candidates) {
      list = await readText(tree, c);
      if (list !== undefined) break;
    }
    if (list === undefined) {
      warnings.push(`dpkg: no file list for installed package ${facts.name}:${facts.arch}`);
      packages.push({ ...facts, paths: [] });
      continue;
    }
    const lines = list.split('\n').map(stripSlash);
    // A .list does not say which entries are directories. Any entry with entries below it is
    // one, even where the tree has a symlink instead (merged /usr: '/bin' is listed by every
    // package shipping '/bin/x', but 'bin' is the system's symlink, no package's file).
    const dirs = new Set<string>();
    for (const l of lines) for (let i = l.indexOf('/'); i > 0; i = l.indexOf('/', i + 1)) dirs.add(l.slice(0, i));
    const paths = new Set<string>();
    for (const listed of lines) {
      if (listed === '' || listed === '.' || dirs.has(listed)) continue;
      let real = tree.resolveParents(listed);
      const div = diversions.get(real);
      if (div !== undefined && div.by !== facts.name) real = tree.resolveParents(stripSlash(div.to));
      const node = tree.lookup(real);
      // Paths removed after installation (docs stripped from slim images) are simply absent.
      if (node === undefined || node.type === 'dir') continue;
      paths.add(real);
    }
    packages.push({ ...facts, paths: [...paths].sort(byteOrder) });
  }
  packages.sort((a, b) => byteOrder(a.name, b.name) || byteOrder(a.arch, b.arch));
  return { packages, warnings };
}
