/**
 * Small tar archives drawn from a grammar of header features, from a seeded PRNG so that a
 * failing archive can be made again from its number. Headers are written by make-tar's
 * hand-crafted block writer, not by src/tar, so the archives do not share our encoder's ideas.
 * Each archive carries the list of features it used, for messages.
 */
import {
  END,
  gnuLongEntry,
  paxRecords,
  rawEntry,
  rawHeader,
  type NumField,
  type RawSpec,
} from '../helpers/make-tar.js';

export interface GeneratedArchive {
  id: number;
  features: string[];
  bytes: Buffer;
}

/** mulberry32: tiny, fast, and the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly features = new Set<string>();
  readonly written: string[] = [];
  constructor(readonly rnd: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }
  weighted<T extends string>(w: Record<T, number>): T {
    const total = Object.values<number>(w).reduce((a, b) => a + b, 0);
    let r = this.rnd() * total;
    for (const [k, v] of Object.entries<number>(w)) if ((r -= v) < 0) return k as T;
    return Object.keys(w)[0] as T;
  }
  feature(f: string): void {
    this.features.add(f);
  }
}

const POOL = ['a', 'b', 'd', 'd/f', 'd/e/g', 'x', 'a/b', 'd/e', 'fd', 'fd/x'];

function pathFor(g: Gen): string {
  const kind = g.weighted({ pool: 70, dup: 12, deep: 5, long: 6, longComponent: 2, huge: 1, odd: 5, bytes: 3 });
  if (kind !== 'pool') g.feature(`path:${kind}`);
  switch (kind) {
    case 'pool':
      return g.pick(POOL);
    case 'dup':
      return g.written.length ? g.pick(g.written) : g.pick(POOL);
    case 'deep':
      return Array.from({ length: g.int(20, 120) }, () => g.pick(['p', 'q'])).join('/');
    case 'long':
      return `${'L'.repeat(g.int(40, 150))}/${'n'.repeat(g.int(30, 99))}`;
    case 'longComponent':
      return `d/${'c'.repeat(g.pick([255, 256]))}`;
    case 'huge':
      return Array.from({ length: g.int(90, 100) }, () => 'h'.repeat(45)).join('/');
    case 'odd':
      return g.pick(['./a', 'a//b', 'fd/.', 'a/', './', 'd/./f', '/abs', 'a/../b', '..', 'd/e/', '.']);
    case 'bytes':
      return g.pick(['\xff\xfe', 'd/\xc3', 'caf\xc3\xa9']);
  }
}

type Field = 'mode' | 'uid' | 'gid' | 'mtime' | 'size';
const WIDTH: Record<Field, number> = { mode: 8, uid: 8, gid: 8, mtime: 12, size: 12 };

/** A numeric field, mostly plain octal; sometimes one of the spellings readers disagree on. */
function num(g: Gen, field: Field, v: number): NumField {
  if (!g.chance(0.025)) return v;
  const w = WIDTH[field];
  const oct = v.toString(8);
  const spelled = spell(g, field, v, w, oct);
  return typeof spelled === 'object' && 'raw' in spelled && spelled.raw.length > w ? v : spelled;
}

function spell(g: Gen, field: Field, v: number, w: number, oct: string): NumField {
  const style = g.pick([
    'lead-spaces',
    'full-width',
    'two-nul',
    'one-nul',
    'space-nul',
    'base256',
    'base256-odd',
    'tab',
    'trail-space',
    'nul-garbage',
  ]);
  g.feature(`num:${field}:${style}`);
  switch (style) {
    case 'lead-spaces':
      return { raw: oct.padStart(w - 1, ' ') + '\0' };
    case 'full-width':
      return { raw: oct.padStart(w, '0') };
    case 'two-nul':
      return { raw: '\0\0' + oct.padStart(w - 3, '0') + '\0' };
    case 'one-nul':
      return { raw: '\0' + oct.padStart(w - 2, '0') + '\0' };
    case 'space-nul':
      return { raw: ' \0' + oct.padStart(w - 3, '0') + '\0' };
    case 'base256':
      return { base256: BigInt(v) };
    case 'base256-odd': {
      const b = Buffer.alloc(w);
      b.writeUInt32BE(v, w - 4);
      b[0] = 0x81;
      return { raw: b.toString('latin1') };
    }
    case 'tab':
      return { raw: '\t' + oct.padStart(w - 2, '0') + '\0' };
    case 'trail-space':
      return { raw: oct.padStart(w - 2, '0') + ' \0' };
    default:
      return { raw: oct.padStart(w - 3, '0') + '\0' + '7' };
  }
}

type Kind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo' | 'whiteout' | 'opaque';
const FLAG: Record<Kind, string> = {
  file: '0',
  dir: '5',
  symlink: '2',
  hardlink: '1',
  chardev: '3',
  blockdev: '4',
  fifo: '6',
  whiteout: '0',
  opaque: '0',
};

/** One entry: any meta headers (g, x, L, K) followed by its header and body. */
function entry(g: Gen): Buffer[] {
  const kind = g.weighted<Kind>({
    file: 40,
    dir: 18,
    symlink: 10,
    hardlink: 10,
    chardev: 3,
    blockdev: 2,
    fifo: 2,
    whiteout: 4,
    opaque: 2,
  });
  g.feature(`type:${kind}`);
  let path = pathFor(g);
  if (kind === 'whiteout') path = path.replace(/[^/]*$/, (b) => `.wh.${b || 'a'}`);
  if (kind === 'opaque') path = path.replace(/[^/]*$/, '.wh..wh..opq');
  if (kind === 'dir' && g.chance(0.5)) path += '/';
  const records: Array<[string, string | Buffer]> = [];
  const out: Buffer[] = [];
  const spec: RawSpec = { name: '', typeflag: FLAG[kind] };
  if (kind === 'file' && g.chance(0.08)) {
    spec.typeflag = g.pick(['\0', '7']);
    g.feature(`typeflag:${JSON.stringify(spec.typeflag)}`);
  }
  spec.magic = g.weighted({ ustar: 80, gnu: 15, v7: 5 });
  if (spec.magic !== 'ustar') g.feature(`magic:${spec.magic}`);

  // The name: ustar field, ustar prefix, PAX path, GNU L, or two of them at once.
  let how = g.weighted({ field: 70, pax: 12, gnu: 10, both: 4, prefixOnly: 4 });
  if (path.length > 100 && how === 'field')
    how = path.length <= 256 && path.indexOf('/', path.length - 101) > 0 ? 'field' : 'pax';
  if (how !== 'field') g.feature(`name:${how}`);
  const field = (p: string): void => {
    if (p.length <= 100) spec.name = p;
    else {
      const cut = p.indexOf('/', p.length - 101);
      spec.prefix = p.slice(0, cut);
      spec.name = p.slice(cut + 1);
      g.feature('name:prefix');
    }
  };
  if (how === 'field') field(path);
  else if (how === 'prefixOnly' && path.length <= 155) {
    spec.prefix = path;
    spec.name = '';
  } else {
    spec.name = path.slice(0, 100);
    if (how === 'pax' || how === 'both') records.push(['path', path]);
    if (how === 'gnu' || how === 'both') out.push(gnuLongEntry('L', how === 'both' ? path + 'g' : path));
  }

  // Link targets.
  if (kind === 'symlink') {
    const t = g.pick([
      'target',
      '../up',
      '/abs/t',
      'target',
      'T'.repeat(150),
      'd',
      'a/',
      'x',
      g.chance(0.3) ? '' : 'b',
    ]);
    if (t === '') g.feature('symlink:empty');
    if (t.length > 100) {
      if (g.chance(0.5)) records.push(['linkpath', t]);
      else out.push(gnuLongEntry('K', t));
      spec.linkname = t.slice(0, 100);
    } else spec.linkname = t;
  }
  if (kind === 'hardlink') {
    const style = g.weighted({ back: 65, forward: 10, slash: 5, missing: 4, self: 4, dir: 5, dot: 7 });
    g.feature(`hardlink:${style}`);
    const back = g.written.length ? g.pick(g.written) : 'a';
    const t = {
      back,
      forward: g.pick(POOL),
      slash: back + '/',
      missing: 'nope',
      self: path,
      dir: 'd',
      dot: `./${back}`,
    }[style];
    if (t.length > 100) records.push(['linkpath', t]);
    spec.linkname = t.slice(0, 100);
  }
  if (kind === 'chardev' || kind === 'blockdev') {
    spec.devmajor = g.int(1, 200);
    spec.devminor = g.int(0, 300);
    if (g.chance(0.2)) {
      g.feature('pax:SCHILY.devmajor');
      records.push(['SCHILY.devmajor', String(g.int(1, 9))]);
    }
  }

  // Metadata, sometimes overridden by PAX records.
  const uid = g.pick([0, 0, 1000, 65534, 2097151]);
  const mtime = g.int(1_000_000_000, 1_600_000_000);
  spec.mode = num(g, 'mode', g.pick([0o644, 0o755, 0o600, 0o4755, 0o1777, 0o2750]));
  spec.uid = num(g, 'uid', uid);
  spec.gid = num(g, 'gid', g.pick([0, 100, 1000]));
  spec.mtime = num(g, 'mtime', mtime);
  spec.uname = g.chance(0.3) ? 'someone' : '';
  if (g.chance(0.1)) {
    const big = g.pick([2 ** 21, 2 ** 31, 2 ** 32, 2 ** 32 + 5, 12345678]);
    g.feature(`pax:uid:${big}`);
    records.push(['uid', String(big)]);
  }
  if (g.chance(0.08)) {
    g.feature('pax:mtime');
    records.push(['mtime', `${mtime + 7}.${g.pick(['5', '123456789', '000000001', '25'])}`]);
  }
  if (g.chance(0.12)) {
    g.feature('pax:xattr');
    records.push([`SCHILY.xattr.user.${g.pick(['k', 'component', 'z'])}`, g.pick(['v', 'pkg', '\x00\xff'])]);
  }
  if (g.chance(0.04)) {
    g.feature('pax:LIBARCHIVE.xattr');
    records.push(['LIBARCHIVE.xattr.user.lib', Buffer.from('lib').toString('base64')]);
  }
  if (g.chance(0.02)) {
    g.feature('pax:empty-value');
    records.push([g.pick(['path', 'uid', 'mtime', 'linkpath']), '']);
  }

  // The body.
  let body = Buffer.alloc(0);
  if (kind === 'file' && g.chance(0.85)) {
    if (g.chance(0.1)) {
      g.feature('body:holds-header');
      body = Buffer.concat([
        rawEntry({ name: 'hidden', mode: 0o4755 }, Buffer.from('#!/bin/sh\n')),
        Buffer.alloc(1024),
      ]);
    } else {
      body = Buffer.alloc(g.int(0, 700), g.int(0, 255));
      for (let i = 0; i < body.length; i += 7) body[i] = Math.floor(g.rnd() * 256);
    }
  }
  let size = body.length;
  if (g.chance(0.05)) {
    g.feature('pax:size');
    records.push(['size', String(size)]);
    size = g.pick([0, size]);
  }
  if (kind !== 'file' && g.chance(0.06)) {
    g.feature('size:on-non-file');
    size = 512;
  }
  spec.size = num(g, 'size', size);

  // Meta headers: a global one sometimes, and the local records split over one to three 'x'.
  if (g.chance(0.03)) {
    const rec = g.pick<Array<[string, string]>>([
      [['comment', 'git-archive']],
      [['uid', '4242']],
      [['SCHILY.xattr.user.g', 'global']],
      [['path', 'gpath']],
      [['mtime', '5']],
    ]);
    g.feature(`pax-global:${rec[0]![0]}`);
    out.unshift(rawEntry({ name: 'pax_global_header', typeflag: 'g' }, paxRecords(rec)));
  }
  if (records.length > 0) {
    const parts = records.length > 1 && g.chance(0.3) ? g.int(2, 3) : 1;
    if (parts > 1) g.feature('pax:several-x');
    else if (g.chance(0.1)) {
      g.feature('pax:several-x-conflicting');
      out.unshift(
        rawEntry(
          { name: 'PaxHeaders/first', typeflag: 'x' },
          paxRecords([
            ['path', 'decoy'],
            ['uid', '777'],
          ]),
        ),
      );
    }
    const per = Math.ceil(records.length / parts);
    for (let i = 0; i < records.length; i += per) {
      out.push(rawEntry({ name: 'PaxHeaders/x', typeflag: 'x' }, paxRecords(records.slice(i, i + per))));
    }
  }
  out.push(rawHeader(spec), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  g.written.push(path.replace(/\/+$/, '') || '.');
  return out;
}

export function generateArchive(seed: number, id: number): GeneratedArchive {
  const g = new Gen(prng(seed * 1_000_003 + id));
  const parts: Buffer[] = [];
  const n = g.int(1, 5);
  for (let i = 0; i < n; i++) parts.push(...entry(g));
  const end = g.weighted({ two: 85, one: 5, none: 4, truncated: 6 });
  if (end !== 'two') g.feature(`end:${end}`);
  let bytes = Buffer.concat([...parts, end === 'two' ? END : end === 'one' ? END.subarray(0, 512) : Buffer.alloc(0)]);
  if (end === 'truncated') bytes = bytes.subarray(0, g.int(1, bytes.length - 1));
  return { id, features: [...g.features].sort(), bytes };
}
