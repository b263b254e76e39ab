/**
 * When did a Debian package change? Its changelog says: every entry ends with a trailer line
 * ` -- Name <mail>  Day, DD Mon YYYY HH:MM:SS +ZZZZ`. The planner uses these dates the way
 * hhd-dev/rechunk uses rpm's CHANGELOGTIME: packages that changed often are likely to change again.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { TreeView } from './types.js';

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

// Changelogs are small; a larger "gzip" is not one and must not blow up memory when inflated.
const MAX_CHANGELOG_BYTES = 64 * 1024 * 1024;
const MAX_LINK_HOPS = 40;
// On the thread pool: inflating every package's changelog on the main thread held up the build.
const gunzipAsync = promisify(gunzip);

/** Seconds since the epoch of one trailer's date, or undefined when it does not parse. */
export function parseTrailerDate(text: string): number | undefined {
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-])(\d{2}):?(\d{2})/.exec(
    text,
  );
  if (!m) return undefined;
  const month = MONTHS[m[2]!.toLowerCase()];
  if (month === undefined) return undefined;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) * 60;
  return Math.floor(utc / 1000) - offset;
}

/** Dates of every entry of a Debian changelog, in seconds, newest first, without duplicates. */
export function changelogDates(text: string): number[] {
  const times = new Set<number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(' -- ')) continue;
    // The date follows the maintainer's address; a name may contain digits, the address ends at '>'.
    const gt = line.lastIndexOf('>');
    const t = parseTrailerDate(gt < 0 ? line : line.slice(gt + 1));
    if (t !== undefined) times.add(t);
  }
  return [...times].sort((a, b) => b - a);
}

/**
 * Join a symlink's target to the directory holding the link, staying inside the tree: an
 * absolute target starts from the tree's root and '..' never climbs above it, as in a chroot.
 */
export function joinInTree(dir: string, target: string): string {
  const parts = target.startsWith('/') ? [] : dir.split('/').filter((p) => p !== '');
  for (const c of target.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  return parts.join('/');
}

/** The regular file a path names once every symlink on the way is followed inside the tree. */
export function followInTree(tree: TreeView, path: string): string | undefined {
  let cur = tree.resolveParents(path);
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    const node = tree.lookup(cur);
    if (node === undefined) return undefined;
    if (node.type === 'file' || node.type === 'hardlink') return cur;
    if (node.type !== 'symlink') return undefined;
    const slash = cur.lastIndexOf('/');
    cur = tree.resolveParents(joinInTree(slash < 0 ? '' : cur.slice(0, slash), node.linkname));
  }
  return undefined;
}

/**
 * Change dates of a binary package from `usr/share/doc/PKG/changelog.Debian.gz` plus the
 * binNMU changelog `changelog.Debian.ARCH.gz` when present; native packages have only
 * `changelog.gz`, which is then the Debian changelog. Many binary packages' doc directories are
 * symlinks to another package's of the same source; they are followed, inside the tree only.
 * Returns [] when no readable changelog exists.
 */
export async function debianChangeTimes(tree: TreeView, pkg: string, arch?: string): Promise<number[]> {
  const doc = `usr/share/doc/${pkg}`;
  const debian = ['changelog.Debian.gz', ...(arch ? [`changelog.Debian.${arch}.gz`] : [])];
  const times = new Set<number>();
  for (const name of debian) for (const t of await datesOf(tree, `${doc}/${name}`)) times.add(t);
  if (times.size === 0) for (const t of await datesOf(tree, `${doc}/changelog.gz`)) times.add(t);
  return [...times].sort((a, b) => b - a);
}

async function datesOf(tree: TreeView, name: string): Promise<number[]> {
  const path = followInTree(tree, name);
  if (path === undefined) return [];
  const node = tree.lookup(path);
  if (node === undefined || node.size > MAX_CHANGELOG_BYTES) return [];
  try {
    const inflated = await gunzipAsync(await tree.readFile(path), { maxOutputLength: MAX_CHANGELOG_BYTES });
    const text = inflated.toString('latin1');
    return changelogDates(text);
  } catch {
    // A broken changelog only costs the planner a hint; it is not worth failing the build.
    return [];
  }
}
