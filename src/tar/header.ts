import { RechunkerError } from '../errors.js';
import type { EntryType } from './entry.js';

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
