/**
 * Installed rpm packages, read from rpm's sqlite database. Each row of its `Packages` table is
 * one package header in the "header-only" form rpm keeps in its database (no lead, no magic):
 * int32 index count, int32 data length, 16-byte index entries, then the data store; big-endian.
 *
 * Strings are decoded as latin1 byte strings, like every path in rechunker (tar/entry.ts), so
 * file names that are not UTF-8 still match the tree's paths byte for byte.
 */
import { RechunkerError } from '../errors.js';
import { readPackageRows } from './rpm-sqlite.js';
import type { TreeView } from './types.js';

export interface RpmPackage {
  name: string;
  epoch?: number;
  version: string;
  release: string;
  arch: string;
  /** SOURCERPM as stored, e.g. 'curl-7.76.0-6.cm2.src.rpm'; '' when absent (gpg-pubkey). */
  sourceRpm: string;
  /** Grouping key: source rpm name without version-release, or the package name when absent. */
  sourceName: string;
  buildTime: number;
  /** Installed size in bytes (LONGSIZE when present, else SIZE). */
  size: number;
  /** Non-directory file paths as the database lists them, without the leading '/', not resolved. */
  files: string[];
  /** CHANGELOGTIME values in seconds, newest first. */
  changelogTimes: number[];
}

/** Where rpm keeps its database; anything below is database state, not package content. */
export const RPMDB_DIRS = ['usr/lib/sysimage/rpm', 'var/lib/rpm', 'usr/share/rpm'];
const SQLITE_NAMES = ['usr/lib/sysimage/rpm/rpmdb.sqlite', 'var/lib/rpm/rpmdb.sqlite', 'usr/share/rpm/rpmdb.sqlite'];

const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  BUILDTIME: 1006,
  SIZE: 1009,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  FILEMODES: 1030,
  SOURCERPM: 1044,
  CHANGELOGTIME: 1080,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  LONGSIZE: 5009,
} as const;

const T_INT16 = 3;
const T_INT32 = 4;
const T_INT64 = 5;
const T_STRING = 6;
const T_STRING_ARRAY = 8;
const T_I18NSTRING = 9;

// rpm itself refuses headers beyond these (header.c: HEADER_TAGS_MAX, HEADER_DATA_MAX).
const MAX_TAGS = 0xffff;
const MAX_DATA = 256 * 1024 * 1024;

interface IndexEntry {
  type: number;
  offset: number;
  count: number;
}

class Header {
  private readonly entries = new Map<number, IndexEntry>();
  private readonly dataStart: number;

  constructor(
    private readonly b: Buffer,
    private readonly where: string,
  ) {
    if (b.length < 8) throw this.bad('header shorter than 8 bytes');
    const il = b.readInt32BE(0);
    const dl = b.readInt32BE(4);
    if (il < 1 || il > MAX_TAGS || dl < 0 || dl > MAX_DATA)
      throw this.bad(`implausible header sizes (${il} tags, ${dl} bytes)`);
    this.dataStart = 8 + il * 16;
    if (this.dataStart + dl > b.length)
      throw this.bad(`header claims ${this.dataStart + dl} bytes, blob has ${b.length}`);
    for (let i = 0; i < il; i++) {
      const at = 8 + i * 16;
      const tag = b.readInt32BE(at);
      const e = { type: b.readInt32BE(at + 4), offset: b.readInt32BE(at + 8), count: b.readInt32BE(at + 12) };
      if (e.offset < 0 || e.offset >= Math.max(dl, 1) || e.count < 0 || e.count > dl) {
        // Region tags (61-63) point at the trailer; only the tags we read need valid data.
        if (tag >= 61 && tag <= 63) continue;
        throw this.bad(`tag ${tag}: offset ${e.offset} count ${e.count} outside the ${dl}-byte data store`);
      }
      if (!this.entries.has(tag)) this.entries.set(tag, e);
    }
    // Slicing keeps every read below inside the declared data store.
    this.b = b.subarray(0, this.dataStart + dl);
  }

  private bad(msg: string): RechunkerError {
    return new RechunkerError('UNSUPPORTED', `${this.where}: ${msg}`);
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  strings(tag: number): string[] | undefined {
    const e = this.entries.get(tag);
    if (e === undefined) return undefined;
    if (e.type !== T_STRING && e.type !== T_STRING_ARRAY && e.type !== T_I18NSTRING)
      throw this.bad(`tag ${tag} has type ${e.type}, not a string`);
    const out: string[] = [];
    let pos = this.dataStart + e.offset;
    const n = e.type === T_STRING ? 1 : e.count;
    for (let i = 0; i < n; i++) {
      const nul = this.b.indexOf(0, pos);
      if (nul < 0) throw this.bad(`tag ${tag}: string ${i} is not terminated`);
      out.push(this.b.toString('latin1', pos, nul));
      pos = nul + 1;
    }
    return out;
  }

  string(tag: number): string | undefined {
    return this.strings(tag)?.[0];
  }

  ints(tag: number): number[] | undefined {
    const e = this.entries.get(tag);
    if (e === undefined) return undefined;
    const width = e.type === T_INT16 ? 2 : e.type === T_INT32 ? 4 : e.type === T_INT64 ? 8 : 0;
    if (width === 0) throw this.bad(`tag ${tag} has type ${e.type}, not an integer`);
    const start = this.dataStart + e.offset;
    if (start + width * e.count > this.b.length)
      throw this.bad(`tag ${tag}: ${e.count} values run past the data store`);
    const out: number[] = [];
    for (let i = 0; i < e.count; i++) {
      const at = start + i * width;
      // rpm's integers are unsigned (modes, sizes, times).
      out.push(
        width === 2
          ? this.b.readUInt16BE(at)
          : width === 4
            ? this.b.readUInt32BE(at)
            : Number(this.b.readBigUInt64BE(at)),
      );
    }
    return out;
  }
}

/** 'bash-5.2.15-5.fc40.src.rpm' -> 'bash'; the name is what stays the same from one build to the next. */
export function sourceRpmName(srpm: string): string {
  const base = srpm.replace(/\.(no)?src\.rpm$/, '');
  const parts = base.split('-');
  return parts.length >= 3 ? parts.slice(0, -2).join('-') : base;
}

/** Decode one package header blob as stored in rpmdb. */
export function parseRpmHeader(blob: Buffer, where = 'rpm header'): RpmPackage {
  const h = new Header(blob, where);
  const name = h.string(TAG.NAME);
  if (name === undefined || name === '') throw new RechunkerError('UNSUPPORTED', `${where}: no NAME tag`);
  const sourceRpm = h.string(TAG.SOURCERPM) ?? '';
  const files = fileNames(h, where);
  const times = h.ints(TAG.CHANGELOGTIME) ?? [];
  const pkg: RpmPackage = {
    name,
    version: h.string(TAG.VERSION) ?? '',
    release: h.string(TAG.RELEASE) ?? '',
    arch: h.string(TAG.ARCH) ?? '',
    sourceRpm,
    sourceName: sourceRpm === '' ? name : sourceRpmName(sourceRpm),
    buildTime: h.ints(TAG.BUILDTIME)?.[0] ?? 0,
    size: h.ints(TAG.LONGSIZE)?.[0] ?? h.ints(TAG.SIZE)?.[0] ?? 0,
    files,
    changelogTimes: [...new Set(times)].sort((a, b) => b - a),
  };
  const epoch = h.ints(TAG.EPOCH)?.[0];
  if (epoch !== undefined) pkg.epoch = epoch;
  return pkg;
}

function fileNames(h: Header, where: string): string[] {
  let paths: string[];
  const basenames = h.strings(TAG.BASENAMES);
  if (basenames !== undefined) {
    const dirnames = h.strings(TAG.DIRNAMES) ?? [];
    const dirindexes = h.ints(TAG.DIRINDEXES) ?? [];
    if (dirindexes.length !== basenames.length)
      throw new RechunkerError(
        'UNSUPPORTED',
        `${where}: ${basenames.length} basenames but ${dirindexes.length} dir indexes`,
      );
    paths = basenames.map((b, i) => {
      const d = dirnames[dirindexes[i]!];
      if (d === undefined) throw new RechunkerError('UNSUPPORTED', `${where}: dir index ${dirindexes[i]} out of range`);
      return d + b;
    });
  } else {
    // Headers written before rpm 4.0 list whole paths instead.
    paths = h.strings(TAG.OLDFILENAMES) ?? [];
  }
  const modes = h.ints(TAG.FILEMODES);
  if (modes !== undefined && modes.length !== paths.length)
    throw new RechunkerError('UNSUPPORTED', `${where}: ${paths.length} files but ${modes.length} modes`);
  const out: string[] = [];
  for (let i = 0; i < paths.length; i++) {
    if (modes !== undefined && (modes[i]! & 0o170000) === 0o040000) continue;
    const p = paths[i]!.replace(/^\/+/, '');
    if (p !== '') out.push(p);
  }
  return out;
}

/** Every package of an rpmdb.sqlite file (plus its -wal file when one is non-empty). */
export async function readRpmSqlite(db: Buffer, path: string, wal?: Buffer): Promise<RpmPackage[]> {
  try {
    const rows = await readPackageRows(db, wal);
    return rows.map((row) => parseRpmHeader(row.blob, `package row ${row.hnum}`));
  } catch (err) {
    // One code and message shape for every way the database can be unreadable; the caller then
    // treats the files as unclaimed. RangeError is kept as the last line of defence.
    if (err instanceof RechunkerError || err instanceof RangeError) {
      throw new RechunkerError('UNSUPPORTED', `cannot read rpm database ${path}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

export interface RpmDatabase {
  path: string;
  packages: RpmPackage[];
}

/**
 * The rpm database of a tree, or undefined when there is none. Throws
 * RechunkerError('UNSUPPORTED') when it exists but cannot be read, including the older
 * Berkeley DB and ndb backends, which this reader does not handle.
 */
export async function readRpmDatabase(tree: TreeView): Promise<RpmDatabase | undefined> {
  for (const name of SQLITE_NAMES) {
    const path = tree.resolveParents(name);
    const node = tree.lookup(path);
    if (node === undefined || (node.type !== 'file' && node.type !== 'hardlink')) continue;
    const db = await tree.readFile(path);
    const walNode = tree.lookup(`${path}-wal`);
    const wal = walNode !== undefined && walNode.size > 0 ? await tree.readFile(`${path}-wal`) : undefined;
    return { path, packages: await readRpmSqlite(db, path, wal) };
  }
  for (const dir of RPMDB_DIRS) {
    for (const legacy of ['Packages', 'Packages.db']) {
      const path = tree.resolveParents(`${dir}/${legacy}`);
      if (tree.lookup(path) !== undefined) {
        throw new RechunkerError(
          'UNSUPPORTED',
          `cannot read rpm database ${path}: only the sqlite backend is supported`,
        );
      }
    }
  }
  return undefined;
}
