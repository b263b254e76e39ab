import type { EntryType, TarEntry } from './entry.js';
import { BLOCK_SIZE } from './header.js';
import { formatPax, formatPaxTime } from './pax.js';

/** Writing ustar header blocks, with PAX records for what ustar cannot hold (header.ts reads them). */

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

const TYPEFLAGS: Record<EntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  chardev: '3',
  blockdev: '4',
  dir: '5',
  fifo: '6',
};

/** Fields of one header block, written exactly as given (no PAX, no clamping). */
export interface RawHeaderFields {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  /** Left as NULs when undefined (GNU does so in its PAX headers). */
  devmajor?: number;
  devminor?: number;
  prefix?: string;
}

/** The eight spaces the checksum field holds while the checksum is summed. */
const CHECKSUM_SPACES = 8 * 0x20;
const MAGIC = 'ustar\x0000';
const MAGIC_SUM = byteSum(MAGIC);

/**
 * Encode one ustar block. Throws if a value does not fit: callers decide about PAX first.
 *
 * The checksum is the sum of the bytes each field writes, not a pass over the 512-byte block, and
 * the block comes from Buffer's shared pool, not an ArrayBuffer of its own: for a 250,000-file
 * image, the summing loop and the allocations were 1.4 s of the build's CPU.
 */
export function encodeRawHeader(f: RawHeaderFields): Buffer {
  const b = Buffer.allocUnsafe(BLOCK_SIZE).fill(0);
  let sum = CHECKSUM_SPACES + MAGIC_SUM + f.typeflag.charCodeAt(0);
  sum += writeString(b, 0, 100, f.name, 'name');
  sum += writeOctal(b, 100, 8, f.mode, 'mode');
  sum += writeOctal(b, 108, 8, f.uid, 'uid');
  sum += writeOctal(b, 116, 8, f.gid, 'gid');
  sum += writeOctal(b, 124, 12, f.size, 'size');
  sum += writeOctal(b, 136, 12, f.mtime, 'mtime');
  b[156] = f.typeflag.charCodeAt(0);
  sum += writeString(b, 157, 100, f.linkname ?? '', 'linkname');
  b.write(MAGIC, 257, 'latin1');
  sum += writeString(b, 265, 32, f.uname ?? '', 'uname');
  sum += writeString(b, 297, 32, f.gname ?? '', 'gname');
  if (f.devmajor !== undefined) sum += writeOctal(b, 329, 8, f.devmajor, 'devmajor');
  if (f.devminor !== undefined) sum += writeOctal(b, 337, 8, f.devminor, 'devminor');
  sum += writeString(b, 345, 155, f.prefix ?? '', 'prefix');
  writeChecksum(b, 0, sum);
  return b;
}

/** Checksum as GNU tar writes it: six octal digits, NUL, space. */
function writeChecksum(block: Buffer, off: number, sum: number): void {
  for (let i = off + 153; i >= off + 148; i--) {
    block[i] = 0x30 + (sum % 8);
    sum = Math.floor(sum / 8);
  }
  block[off + 154] = 0;
  block[off + 155] = 0x20;
}

/** The sum of the bytes `s` writes as latin1 (a byte string: one char a byte). */
function byteSum(s: string): number {
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s.charCodeAt(i) & 0xff;
  return sum;
}

/** Writes `s` (latin1) at `off`; returns the sum of its bytes. */
function writeString(b: Buffer, off: number, len: number, s: string, field: string): number {
  if (s.length > len) throw new Error(`tar header: ${field} of ${s.length} bytes does not fit ${len}`);
  if (s.length === 0) return 0;
  b.write(s, off, 'latin1');
  return byteSum(s);
}

/** Writes `v` as len - 1 octal digits and a NUL; returns the sum of its bytes. */
function writeOctal(b: Buffer, off: number, len: number, v: number, field: string): number {
  if (!Number.isSafeInteger(v) || v < 0 || v >= 8 ** (len - 1)) {
    throw new Error(`tar header: ${field} ${v} does not fit ${len - 1} octal digits`);
  }
  // Digit by digit into the block: a string per field was a measurable share of writing a
  // 250,000-file image. The last byte stays NUL.
  let sum = 0;
  for (let i = off + len - 2; i >= off; i--) {
    const digit = 0x30 + (v % 8);
    b[i] = digit;
    sum += digit;
    v = Math.floor(v / 8);
  }
  return sum;
}

/**
 * The header block(s) for an entry: ustar, preceded by a PAX 'x' header when a value does not
 * fit. As GNU tar --format=pax does, a numeric field whose value moved to PAX holds 0 (and a
 * too long name or linkname holds its first 100 bytes), so a reader that ignores PAX sees an
 * obviously wrong value rather than a silently clamped one. Unlike GNU we use the ustar prefix
 * field before resorting to PAX for long paths (as Go's archive/tar does): fewer extra headers.
 * A negative mtime goes to PAX too (GNU tar refuses it in this format).
 */
export function encodeEntryHeader(entry: TarEntry): Buffer {
  const records: [string, Buffer | string][] = [];
  let name = entry.type === 'dir' ? (entry.path === '.' ? './' : entry.path + '/') : entry.path;
  let prefix = '';
  if (name.length > 100) {
    const split = splitUstarName(name);
    if (split) [prefix, name] = split;
    else {
      records.push(['path', name]);
      name = name.slice(0, 100);
    }
  }
  let linkname = entry.linkname;
  if (linkname.length > 100) {
    records.unshift(['linkpath', linkname]); // GNU writes linkpath before path
    linkname = linkname.slice(0, 100);
  }
  const fit = (key: string, v: number, max: number): number => {
    if (v <= max) return v;
    records.push([key, String(v)]);
    return 0;
  };
  const uid = fit('uid', entry.uid, MAX_OCTAL_7);
  const gid = fit('gid', entry.gid, MAX_OCTAL_7);
  const size = fit('size', entry.size, MAX_OCTAL_11);
  let mtime = entry.mtimeSec;
  if (mtime < 0 || mtime > MAX_OCTAL_11 || entry.mtimeNsec !== 0) {
    records.push(['mtime', formatPaxTime(entry.mtimeSec, entry.mtimeNsec)]);
    if (mtime < 0 || mtime > MAX_OCTAL_11) mtime = 0;
  }
  const isDevice = entry.type === 'chardev' || entry.type === 'blockdev';
  const devmajor = isDevice ? fit('SCHILY.devmajor', entry.devmajor, MAX_OCTAL_7) : 0;
  const devminor = isDevice ? fit('SCHILY.devminor', entry.devminor, MAX_OCTAL_7) : 0;
  // The field needs a terminating NUL to be read back reliably, hence 31 and not 32.
  const fitName = (key: string, v: string): string => {
    if (v.length <= 31) return v;
    records.push([key, v]);
    return v.slice(0, 31);
  };
  const uname = fitName('uname', entry.uname);
  const gname = fitName('gname', entry.gname);
  const xattrNames = [...entry.xattrs.keys()].sort();
  for (const x of xattrNames) records.push([`SCHILY.xattr.${x}`, entry.xattrs.get(x)!]);

  const ustar = encodeRawHeader({
    name,
    prefix,
    linkname,
    uid,
    gid,
    size,
    mtime,
    uname,
    gname,
    devmajor,
    devminor,
    mode: entry.mode & 0o7777,
    typeflag: TYPEFLAGS[entry.type],
  });
  if (records.length === 0) return ustar;
  const pax = formatPax(records);
  const paxHeader = encodeRawHeader({
    name: paxHeaderName(entry.path),
    typeflag: 'x',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: pax.length,
    mtime: Math.min(Math.max(entry.mtimeSec, 0), MAX_OCTAL_11),
  });
  const padded = Math.ceil(pax.length / BLOCK_SIZE) * BLOCK_SIZE;
  const out = Buffer.alloc(BLOCK_SIZE + padded + BLOCK_SIZE);
  paxHeader.copy(out, 0);
  pax.copy(out, BLOCK_SIZE);
  ustar.copy(out, BLOCK_SIZE + padded);
  return out;
}

/**
 * GNU's split: the prefix takes everything up to the last '/' that leaves at most 155 bytes
 * before it and 1..100 after it; a directory's trailing '/' is not a split point.
 */
export function splitUstarName(name: string): [prefix: string, name: string] | undefined {
  if (name.length > 155 + 1 + 100) return undefined;
  let length = name.length;
  if (length > 156) length = 156;
  else if (name.endsWith('/')) length--;
  let i = length - 1;
  while (i > 0 && name[i] !== '/') i--;
  const rest = name.length - i - 1;
  if (i <= 0 || rest > 100 || rest === 0) return undefined;
  return [name.slice(0, i), name.slice(i + 1)];
}

/** GNU tar's default '%d/PaxHeaders/%f', cut to the 100-byte name field. */
export function paxHeaderName(path: string): string {
  const slash = path.lastIndexOf('/');
  const dir = slash < 0 ? '.' : path.slice(0, slash);
  return `${dir}/PaxHeaders/${path.slice(slash + 1)}`.slice(0, 100);
}
