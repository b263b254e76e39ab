import { displayPath } from '../tar/entry.js';
import { UNPACK_TIME, type FlatEntry, type FlatTree } from './flat-tree.js';
import { byteOrder } from '../util/byte-order.js';

export type DifferenceField =
  | 'type'
  | 'mode'
  | 'uid'
  | 'gid'
  | 'mtime'
  | 'content'
  | 'symlink'
  | 'device'
  | 'xattrs'
  | 'hardlinks';

export interface FieldDifference {
  field: DifferenceField;
  /** The value in A and in B, as text ('none' when absent). */
  a: string;
  b: string;
  /** xattrs: the names whose presence or value differs. */
  names?: string[];
}

/**
 * What a comparison may leave out: `mtime-ns`, the sub-second part of mtimes (ustar headers and
 * some filesystems keep whole seconds, so a copy through them differs only there).
 */
export const IGNORABLE = ['mtime-ns'] as const;
export interface CompareOptions {
  ignore?: readonly (typeof IGNORABLE)[number][];
}

/**
 * `only-a` / `only-b`: the path exists on one side; `shadowed`: one side shows the directory with
 * the unpacker's default metadata (0755, root, time of unpacking) instead of the image's own;
 * `differs`: both have it, some fields differ.
 */
export type DifferenceKind = 'only-a' | 'only-b' | 'shadowed' | 'differs';

export interface Difference {
  /** Byte-string path (latin1), as in the image. */
  path: string;
  kind: DifferenceKind;
  /** The type at the path (A's, or B's when only B has it). */
  type: FlatEntry['type'];
  fields: FieldDifference[];
}

/**
 * Entry by entry: type, mode, uid, gid, mtime, content digest, symlink target, device numbers,
 * xattrs, then hardlink sets, each differing set reported once, at its first path. Sorted by path.
 */
export function compareTrees(a: FlatTree, b: FlatTree, opts: CompareOptions = {}): Difference[] {
  const byPath = new Map<string, Difference>();
  const paths = new Set([...a.keys(), ...b.keys()]);
  for (const p of paths) {
    const ea = a.get(p);
    const eb = b.get(p);
    if (!eb) byPath.set(p, { path: p, kind: 'only-a', type: ea!.type, fields: [] });
    else if (!ea) byPath.set(p, { path: p, kind: 'only-b', type: eb.type, fields: [] });
    else {
      const fields = compareEntries(ea, eb, opts);
      if (fields.length > 0)
        byPath.set(p, { path: p, kind: ea.defaulted !== eb.defaulted ? 'shadowed' : 'differs', type: ea.type, fields });
    }
  }
  // Hardlink sets: a set that differs is one difference, however many paths it has.
  const reported = new Set<string>();
  for (const p of [...paths].sort(byteOrder)) {
    if (reported.has(p)) continue;
    const ea = a.get(p);
    const eb = b.get(p);
    if (!ea || !eb || ea.type !== eb.type) continue;
    const sa = (ea.hardlinks ?? []).join('\n');
    const sb = (eb.hardlinks ?? []).join('\n');
    if (sa === sb) continue;
    for (const q of [...(ea.hardlinks ?? []), ...(eb.hardlinks ?? [])]) reported.add(q);
    const field: FieldDifference = { field: 'hardlinks', a: showSet(ea.hardlinks), b: showSet(eb.hardlinks) };
    const d = byPath.get(p);
    if (d) d.fields.push(field);
    else byPath.set(p, { path: p, kind: 'differs', type: ea.type, fields: [field] });
  }
  return [...byPath.values()].sort((x, y) => byteOrder(x.path, y.path));
}

function compareEntries(a: FlatEntry, b: FlatEntry, opts: CompareOptions): FieldDifference[] {
  if (a.type !== b.type) return [{ field: 'type', a: a.type, b: b.type }];
  const out: FieldDifference[] = [];
  const check = (field: DifferenceField, va: string | undefined, vb: string | undefined) => {
    if (va !== vb) out.push({ field, a: va ?? 'none', b: vb ?? 'none' });
  };
  // A symlink's mode means nothing on Linux (always 0777 there; tars carry whatever the builder had).
  if (a.type !== 'symlink') check('mode', showMode(a.mode), showMode(b.mode));
  check('uid', String(a.uid), String(b.uid));
  check('gid', String(a.gid), String(b.gid));
  const seconds = opts.ignore?.includes('mtime-ns') ?? false;
  check('mtime', showMtime(a.mtime, seconds), showMtime(b.mtime, seconds));
  check('content', a.sha256, b.sha256);
  check(
    'symlink',
    a.linkname === undefined ? undefined : displayPath(a.linkname),
    b.linkname === undefined ? undefined : displayPath(b.linkname),
  );
  check('device', a.device, b.device);
  const names = [...new Set([...a.xattrs.keys(), ...b.xattrs.keys()])]
    .filter((n) => !sameBytes(a.xattrs.get(n), b.xattrs.get(n)))
    .sort(byteOrder);
  if (names.length > 0)
    out.push({
      field: 'xattrs',
      names: names.map(displayPath),
      a: showXattrs(a.xattrs, names),
      b: showXattrs(b.xattrs, names),
    });
  return out;
}

function sameBytes(x: Buffer | undefined, y: Buffer | undefined): boolean {
  return x === undefined || y === undefined ? x === y : x.equals(y);
}

function showMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** ISO seconds plus the exact nanoseconds, or 'unpack-time'. */
function showMtime(t: bigint | typeof UNPACK_TIME, secondsOnly = false): string {
  if (t === UNPACK_TIME) return UNPACK_TIME;
  const ns = ((t % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  if (secondsOnly) return new Date(Number((t - ns) / 1_000_000_000n) * 1000).toISOString().replace('.000Z', 'Z');
  const iso = new Date(Number((t - ns) / 1_000_000_000n) * 1000).toISOString().replace('.000Z', 'Z');
  return ns === 0n ? iso : `${iso}+${ns.toString().padStart(9, '0')}ns`;
}

function showXattrs(x: Map<string, Buffer>, names: string[]): string {
  const shown = names.filter((n) => x.has(n)).map((n) => `${displayPath(n)}=0x${x.get(n)!.toString('hex')}`);
  return shown.length > 0 ? shown.join(' ') : 'none';
}

function showSet(set: readonly string[] | undefined): string {
  return set && set.length > 1 ? set.map(displayPath).join(', ') : 'none';
}

/** One line per difference, e.g. `usr/bin (dir): shadowed: mtime 2025-...Z -> unpack-time`. */
export function formatDifference(d: Difference): string {
  const where = `${displayPath(d.path)} (${d.type})`;
  if (d.kind === 'only-a') return `${where}: only in A`;
  if (d.kind === 'only-b') return `${where}: only in B`;
  const fields = d.fields.map((f) => `${f.names ? `xattrs[${f.names.join(',')}]` : f.field} ${f.a} -> ${f.b}`);
  return `${where}: ${d.kind === 'shadowed' ? 'shadowed (default metadata): ' : ''}${fields.join('; ')}`;
}
