import { RechunkerError } from '../errors.js';
import type { EntryType, TarEntry } from './entry.js';
import { formatPax, formatPaxTime } from './pax.js';

/**
 * The 512-byte tar header block, read and written byte-exactly: names are latin1 byte strings,
 * numbers are never clamped on read. Decoding accepts POSIX ustar ("ustar\0" + version), GNU
 * ("ustar  \0", whose prefix area holds other data) and pre-POSIX v7 (no magic) headers.
 * Encoding writes ustar, plus a PAX 'x' header for what ustar cannot hold, the way GNU tar
 * --format=pax does, so that the same entry always gives the same bytes.
 */
export const BLOCK_SIZE = 512;

export type HeaderKind =
  | EntryType
  | 'pax'
  | 'pax-global'
  | 'gnu-long-name'
  | 'gnu-long-link'
  | 'gnu-sparse'
  | 'unknown';

/** A header block as stored, before PAX records and GNU long names are applied. */
export interface RawHeader {
  kind: HeaderKind;
  /** The typeflag byte itself (0 for the old-style NUL regular file). */
  typeflag: number;
  /** Name as stored: prefix joined for ustar, not normalised. */
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

const KINDS: HeaderKind[] = new Array<HeaderKind>(256).fill('unknown');
for (const [flag, kind] of [
  ['\0', 'file'],
  ['0', 'file'],
  ['7', 'file'],
  ['1', 'hardlink'],
  ['2', 'symlink'],
  ['3', 'chardev'],
  ['4', 'blockdev'],
  ['5', 'dir'],
  ['6', 'fifo'],
  ['x', 'pax'],
  ['g', 'pax-global'],
  ['L', 'gnu-long-name'],
  ['K', 'gnu-long-link'],
  ['S', 'gnu-sparse'],
] as const)
  KINDS[flag.charCodeAt(0)] = kind;

const TYPEFLAGS: Record<EntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  chardev: '3',
  blockdev: '4',
  dir: '5',
  fifo: '6',
};

export function isZeroBlock(buf: Buffer, off: number): boolean {
  for (let i = off, end = off + BLOCK_SIZE; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Decode the block at buf[off..off+512). `archiveOffset` and `where` only feed messages. */
export function decodeHeader(buf: Buffer, off: number, archiveOffset: number, where: string): RawHeader {
  // Messages are built only on failure: this runs once per entry, often 100,000 times a layer.
  const at: At = { archiveOffset, where };
  verifyChecksum(buf, off, at);
  const format = magicOf(buf, off);
  if (format === undefined) throw new RechunkerError('BAD_TAR', `not a tar header (unknown magic) at ${describe(at)}`);
  const typeflag = buf[off + 156]!;
  const kind = KINDS[typeflag]!;
  let name = readString(buf, off, 100);
  // The prefix field exists only in POSIX ustar; GNU keeps atime/ctime/sparse data there.
  if (format === 'ustar' && buf[off + 345] !== 0) name = readString(buf, off + 345, 155) + '/' + name;
  const isDevice = kind === 'chardev' || kind === 'blockdev';
  const header: RawHeader = {
    kind,
    typeflag,
    name,
    linkname: readString(buf, off + 157, 100),
    mode: readNumber(buf, off + 100, 8, 'mode', at),
    uid: readNumber(buf, off + 108, 8, 'uid', at),
    gid: readNumber(buf, off + 116, 8, 'gid', at),
    size: readNumber(buf, off + 124, 12, 'size', at),
    mtime: readNumber(buf, off + 136, 12, 'mtime', at),
    uname: format === 'v7' ? '' : readString(buf, off + 265, 32),
    gname: format === 'v7' ? '' : readString(buf, off + 297, 32),
    // Only devices give these fields a meaning; other writers leave anything there. Pre-POSIX
    // headers have no such fields: GNU tar and Go both read 0 there.
    devmajor: isDevice && format !== 'v7' ? readNumber(buf, off + 329, 8, 'devmajor', at) : 0,
    devminor: isDevice && format !== 'v7' ? readNumber(buf, off + 337, 8, 'devminor', at) : 0,
  };
  if (format === 'gnu') checkGnuTimes(buf, off, at);
  if (
    format === 'ustar' &&
    buf.toString('latin1', off + 508, off + 512) === 'tar\0' &&
    readString(buf, off + 345, 155).length > 130
  ) {
    // star's layout: Go reads a 131-byte prefix followed by atime/ctime, GNU tar 155 bytes.
    throw new RechunkerError('BAD_TAR', `star header whose prefix GNU tar and Go read differently in ${describe(at)}`);
  }
  if (
    header.mode < 0 ||
    header.uid < 0 ||
    header.gid < 0 ||
    header.size < 0 ||
    header.devmajor < 0 ||
    header.devminor < 0
  ) {
    const field = (['mode', 'uid', 'gid', 'size', 'devmajor', 'devminor'] as const).find((f) => header[f] < 0)!;
    throw new RechunkerError('BAD_TAR', `negative ${field} in ${describe(at)}`);
  }
  return header;
}

/**
 * GNU headers keep atime and ctime where ustar has its prefix. When they do not parse, Go
 * guesses an old Go writer put a prefix there and prepends it to the name; GNU tar never does.
 */
function checkGnuTimes(buf: Buffer, off: number, at: At): void {
  const bad = (o: number) => buf[off + o] !== 0 && goNumber(buf, off + o, 12) === undefined;
  if (!bad(345) && !bad(357)) return;
  const prefix = readString(buf, off + 345, 155);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII, NUL included, is what the check is about
  if (prefix !== '' && /^[\x00-\x7f]*$/.test(prefix)) {
    throw new RechunkerError('BAD_TAR', `GNU header whose atime/ctime Go reads as a name prefix in ${describe(at)}`);
  }
}

interface At {
  archiveOffset: number;
  where: string;
}

function describe(at: At): string {
  return `header at offset ${at.archiveOffset} in ${at.where}`;
}

function magicOf(buf: Buffer, off: number): 'ustar' | 'gnu' | 'v7' | undefined {
  const m = off + 257;
  if (buf[m] === 0x75 && buf[m + 1] === 0x73 && buf[m + 2] === 0x74 && buf[m + 3] === 0x61 && buf[m + 4] === 0x72) {
    if (buf[m + 5] === 0) return 'ustar'; // version "00" (or the odd " \0"): not checked
    if (buf[m + 5] === 0x20 && buf[m + 6] === 0x20 && buf[m + 7] === 0) return 'gnu';
    return undefined;
  }
  for (let i = m; i < m + 8; i++) if (buf[i] !== 0) return undefined;
  return 'v7';
}

/**
 * The checksum is the sum of the block with its own field read as spaces. Historic writers
 * summed signed chars, so a block with bytes >= 0x80 may carry either sum: both are accepted.
 */
function verifyChecksum(buf: Buffer, off: number, at: At): void {
  let sum = 8 * 0x20;
  for (let i = off, end = off + 148; i < end; i++) sum += buf[i]!;
  for (let i = off + 156, end = off + BLOCK_SIZE; i < end; i++) sum += buf[i]!;
  let stored: number;
  try {
    stored = readNumber(buf, off + 148, 8, 'checksum', at);
  } catch {
    stored = -1;
  }
  if (stored === sum) return;
  let high = 0;
  for (let i = off, end = off + BLOCK_SIZE; i < end; i++) if (i - off < 148 || i - off >= 156) high += buf[i]! >> 7;
  if (stored === sum - 256 * high) return;
  throw new RechunkerError('BAD_TAR', `bad checksum in ${describe(at)} (not a tar archive, or corrupt)`);
}

function readString(buf: Buffer, start: number, len: number): string {
  let end = start;
  const limit = start + len;
  while (end < limit && buf[end] !== 0) end++;
  return end === start ? '' : buf.toString('latin1', start, end);
}

/**
 * A numeric field, read the way both GNU tar and Go's archive/tar read it, or refused where
 * they would not agree: a reader that sees another size than the runtime's can hide entries.
 * Plain octal digits with NUL or space padding (what every writer emits) and GNU base-256
 * (0x80, or 0xff for negatives, then big-endian two's complement) read the same in both.
 */
function readNumber(buf: Buffer, start: number, len: number, field: string, at: At): number {
  const go = goNumber(buf, start, len);
  const gnu = gnuNumber(buf, start, len);
  if (go !== undefined && go === gnu) return go;
  const shown = JSON.stringify(buf.toString('latin1', start, start + len));
  let why = `reads as ${gnu} in GNU tar and ${go} in Go`;
  if (buf[start]! & 0x80) {
    const big = base256Big(buf, start, len);
    why = go === undefined ? `value ${big} out of range` : 'is base-256 with a first byte GNU tar does not read';
    return fail(`${field} ${why}`);
  }
  if (go === undefined || gnu === undefined) why = 'is not an octal number';
  return fail(`${field} field ${why}`);
  function fail(msg: string): never {
    throw new RechunkerError('BAD_TAR', `${msg} in ${describe(at)} (${shown})`);
  }
}

/** Go: base-256 when the high bit is set; else trim spaces and NULs, cut at a NUL, octal. */
function goNumber(buf: Buffer, start: number, len: number): number | undefined {
  if (buf[start]! & 0x80) return base256(buf, start, len);
  let s = start;
  let e = start + len;
  while (s < e && (buf[s] === 0 || buf[s] === 0x20)) s++;
  while (e > s && (buf[e - 1] === 0 || buf[e - 1] === 0x20)) e--;
  if (s === e) return 0;
  const nul = buf.indexOf(0, s);
  if (nul >= 0 && nul < e) e = nul;
  return octal(buf, s, e);
}

/** GNU tar (list.c from_header): one NUL and then whitespace skipped; digits end at NUL or space. */
function gnuNumber(buf: Buffer, start: number, len: number): number | undefined {
  const lim = start + len;
  let p = start + (buf[start] === 0 ? 1 : 0);
  while (p < lim && isSpace(buf[p]!)) p++;
  if (p === lim) return undefined; // "Blanks in header where numeric value expected"
  const c = buf[p]!;
  if (c === 0x80 || c === 0xff) return p === start ? base256(buf, start, len) : undefined;
  let e = p;
  while (e < lim && buf[e]! >= 0x30 && buf[e]! <= 0x37) e++;
  if (e < lim && buf[e] !== 0 && !isSpace(buf[e]!)) return undefined;
  return e === p ? 0 : octal(buf, p, e);
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function octal(buf: Buffer, s: number, e: number): number | undefined {
  if (s === e) return undefined;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 7) return undefined;
    v = v * 8 + d;
  }
  return Number.isSafeInteger(v) ? v : undefined;
}

function base256(buf: Buffer, start: number, len: number): number | undefined {
  const v = base256Big(buf, start, len);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  return Number(v);
}

function base256Big(buf: Buffer, start: number, len: number): bigint {
  const inv = buf[start]! & 0x40 ? 0xff : 0;
  let x = 0n;
  for (let i = 0; i < len; i++) {
    let c = buf[start + i]! ^ inv;
    if (i === 0) c &= 0x7f;
    x = (x << 8n) | BigInt(c);
  }
  return inv ? -x - 1n : x;
}

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

/** Encode one ustar block. Throws if a value does not fit: callers decide about PAX first. */
export function encodeRawHeader(f: RawHeaderFields): Buffer {
  const b = Buffer.alloc(BLOCK_SIZE);
  writeString(b, 0, 100, f.name, 'name');
  writeOctal(b, 100, 8, f.mode, 'mode');
  writeOctal(b, 108, 8, f.uid, 'uid');
  writeOctal(b, 116, 8, f.gid, 'gid');
  writeOctal(b, 124, 12, f.size, 'size');
  writeOctal(b, 136, 12, f.mtime, 'mtime');
  b[156] = f.typeflag.charCodeAt(0);
  writeString(b, 157, 100, f.linkname ?? '', 'linkname');
  b.write('ustar\x0000', 257, 'latin1');
  writeString(b, 265, 32, f.uname ?? '', 'uname');
  writeString(b, 297, 32, f.gname ?? '', 'gname');
  if (f.devmajor !== undefined) writeOctal(b, 329, 8, f.devmajor, 'devmajor');
  if (f.devminor !== undefined) writeOctal(b, 337, 8, f.devminor, 'devminor');
  writeString(b, 345, 155, f.prefix ?? '', 'prefix');
  setChecksum(b, 0);
  return b;
}

/** Checksum as GNU tar writes it: six octal digits, NUL, space. */
export function setChecksum(block: Buffer, off: number): void {
  block.fill(0x20, off + 148, off + 156);
  let sum = 0;
  for (let i = off, end = off + BLOCK_SIZE; i < end; i++) sum += block[i]!;
  block.write(sum.toString(8).padStart(6, '0') + '\0', off + 148, 'latin1');
}

function writeString(b: Buffer, off: number, len: number, s: string, field: string): void {
  if (s.length > len) throw new Error(`tar header: ${field} of ${s.length} bytes does not fit ${len}`);
  if (s.length > 0) b.write(s, off, 'latin1');
}

function writeOctal(b: Buffer, off: number, len: number, v: number, field: string): void {
  if (!Number.isSafeInteger(v) || v < 0 || v >= 8 ** (len - 1)) {
    throw new Error(`tar header: ${field} ${v} does not fit ${len - 1} octal digits`);
  }
  b.write(v.toString(8).padStart(len - 1, '0'), off, 'latin1'); // the last byte stays NUL
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
