// Entry-by-entry comparison of two tree snapshots, with messages a failing test can print.
import type { EntryType, TreeEntry } from './tree-snapshot.js';

export type DifferenceField =
  | 'missing'
  | 'extra'
  | 'type'
  | 'mode'
  | 'uid'
  | 'gid'
  | 'mtime'
  | 'size'
  | 'content'
  | 'symlink'
  | 'device'
  | 'xattrs'
  | 'hardlinks';

export interface FieldDifference {
  field: DifferenceField;
  expected: unknown;
  actual: unknown;
  /** for 'xattrs': the names whose presence or value differs */
  names?: string[];
}

export interface TreeDifference {
  path: string;
  /** the expected entry's type, or the actual one's for an extra path */
  type: EntryType;
  fields: FieldDifference[];
}

export interface CompareOptions {
  /** paths to leave out on both sides (and out of hardlink sets) */
  ignore?: (path: string) => boolean;
}

/** Differences sorted by path; an empty array means the trees are equal. */
export function compareTrees(
  expected: Map<string, TreeEntry>,
  actual: Map<string, TreeEntry>,
  opts: CompareOptions = {},
): TreeDifference[] {
  const ignore = opts.ignore ?? (() => false);
  const paths = new Set<string>();
  for (const p of expected.keys()) if (!ignore(p)) paths.add(p);
  for (const p of actual.keys()) if (!ignore(p)) paths.add(p);

  const diffs: TreeDifference[] = [];
  for (const p of [...paths].sort(byBytes)) {
    const e = expected.get(p);
    const a = actual.get(p);
    if (!a) {
      diffs.push({ path: p, type: e!.type, fields: [{ field: 'missing', expected: e!.type, actual: undefined }] });
      continue;
    }
    if (!e) {
      diffs.push({ path: p, type: a.type, fields: [{ field: 'extra', expected: undefined, actual: a.type }] });
      continue;
    }
    const fields = compareEntry(e, a, ignore);
    if (fields.length > 0) diffs.push({ path: p, type: e.type, fields });
  }
  return diffs;
}

function compareEntry(e: TreeEntry, a: TreeEntry, ignore: (p: string) => boolean): FieldDifference[] {
  if (e.type !== a.type) return [{ field: 'type', expected: e.type, actual: a.type }];
  const out: FieldDifference[] = [];
  const check = (field: DifferenceField, ev: unknown, av: unknown): void => {
    if (ev !== av) out.push({ field, expected: ev, actual: av });
  };
  check('mode', e.mode, a.mode);
  check('uid', e.uid, a.uid);
  check('gid', e.gid, a.gid);
  check('mtime', e.mtimeNs, a.mtimeNs);
  // A directory's st_size is an artefact of the filesystem holding it, not of the image.
  if (e.type !== 'dir') check('size', e.size, a.size);
  check('content', e.sha256, a.sha256);
  check('symlink', e.symlink, a.symlink);
  if (e.device || a.device) {
    const ed = e.device ? `${e.device.major}:${e.device.minor}` : undefined;
    const ad = a.device ? `${a.device.major}:${a.device.minor}` : undefined;
    check('device', ed, ad);
  }
  const names = new Set([...e.xattrs.keys(), ...a.xattrs.keys()]);
  const differing = [...names].filter((n) => e.xattrs.get(n) !== a.xattrs.get(n)).sort();
  if (differing.length > 0) {
    out.push({
      field: 'xattrs',
      names: differing,
      expected: Object.fromEntries(differing.map((n) => [n, e.xattrs.get(n)])),
      actual: Object.fromEntries(differing.map((n) => [n, a.xattrs.get(n)])),
    });
  }
  const eh = (e.hardlinks ?? []).filter((p) => !ignore(p));
  const ah = (a.hardlinks ?? []).filter((p) => !ignore(p));
  // A set reduced to one path by `ignore` is no set at all.
  const es = eh.length > 1 ? eh.join('\n') : '';
  const as = ah.length > 1 ? ah.join('\n') : '';
  if (es !== as) out.push({ field: 'hardlinks', expected: eh.length > 1 ? eh : [], actual: ah.length > 1 ? ah : [] });
  return out;
}

// Latin1 strings hold one byte per char, so code-unit order is byte order (as `LC_ALL=C sort`).
function byBytes(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Up to `max` differences, one line each, then a count of the rest. */
export function formatDifferences(diffs: readonly TreeDifference[], max = 20): string {
  if (diffs.length === 0) return 'no differences';
  const lines = diffs.slice(0, max).map((d) => {
    const parts = d.fields.map((f) => {
      if (f.field === 'missing') return 'missing';
      if (f.field === 'extra') return `extra ${String(f.actual)}`;
      const what = f.names ? `xattrs[${f.names.join(',')}]` : f.field;
      return `${what}: expected ${show(f.field, f.expected)}, got ${show(f.field, f.actual)}`;
    });
    return `  ${JSON.stringify(d.path)} (${d.type}): ${parts.join('; ')}`;
  });
  const rest = diffs.length > max ? `\n  ... and ${diffs.length - max} more` : '';
  return `${diffs.length} difference(s):\n${lines.join('\n')}${rest}`;
}

function show(field: DifferenceField, v: unknown): string {
  if (v === undefined) return 'none';
  if (field === 'mode' && typeof v === 'number') return `0o${v.toString(8).padStart(4, '0')}`;
  if (field === 'mtime' && typeof v === 'bigint') {
    // Whole ISO seconds plus the exact nanoseconds, which is what the comparison uses.
    const ns = ((v % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
    const iso = new Date(Number((v - ns) / 1_000_000_000n) * 1000).toISOString().replace('.000Z', 'Z');
    return `${iso}+${ns.toString().padStart(9, '0')}ns`;
  }
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}
