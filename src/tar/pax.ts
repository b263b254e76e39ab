import { RechunkerError } from '../errors.js';
import { displayPath } from './entry.js';

/**
 * PAX extended header records (POSIX.1-2001 `pax` format): `"%d %s=%s\n"`, the length counting
 * itself. Everything stays in bytes: keys become latin1 byte strings and values stay Buffers,
 * because xattr values (security.capability, system.posix_acl_access) are binary and any text
 * decoding would corrupt them.
 */
export type PaxRecords = Map<string, Buffer>;

/** What a set of records says about the entry it applies to; undefined = not overridden. */
export interface PaxOverrides {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime?: { sec: number; nsec: number };
  xattrs: Map<string, Buffer>;
  /** Any GNU.sparse.* record: the body is a sparse map, not the file's bytes. */
  sparse: boolean;
  /** GNU.sparse.name (sparse format 1.0 hides the real name there), for error messages. */
  sparseName?: string;
}

const SPACE = 0x20;
const EQUALS = 0x3d;
const NEWLINE = 0x0a;

/** Parse a PAX header body. A repeated key keeps its last value, as POSIX says. */
export function parsePax(body: Buffer, where: string): PaxRecords {
  const records: PaxRecords = new Map();
  let p = 0;
  while (p < body.length) {
    // Some writers pad the body with NULs; trailing zeros are not a record.
    if (body[p] === 0 && isAllZero(body, p)) break;
    const bad = (why: string) =>
      new RechunkerError('BAD_TAR', `bad PAX record at byte ${p} of an extended header in ${where}: ${why}`);
    let len = 0;
    let i = p;
    for (; i < body.length && body[i] !== SPACE; i++) {
      const d = body[i]! - 0x30;
      if (d < 0 || d > 9 || i - p >= 15) throw bad('length is not a decimal number');
      len = len * 10 + d;
    }
    if (i === p || i >= body.length) throw bad('no length field');
    const end = p + len;
    if (end > body.length || end <= i + 2) throw bad(`length ${len} does not fit the header`);
    if (body[end - 1] !== NEWLINE) throw bad(`length ${len} does not end at a newline`);
    const eq = body.indexOf(EQUALS, i + 1);
    if (eq < 0 || eq >= end - 1 || eq === i + 1) throw bad('no "key=" in record');
    const key = body.toString('latin1', i + 1, eq);
    // Copy: the body may share memory with a large source chunk we must not pin.
    records.delete(key);
    records.set(key, Buffer.from(body.subarray(eq + 1, end - 1)));
    p = end;
  }
  return records;
}

/** Keys whose empty value GNU tar refuses or applies while Go keeps the ustar field. */
const NO_EMPTY = new Set(['path', 'linkpath', 'uname', 'gname', 'uid', 'gid', 'size', 'mtime', 'atime', 'ctime']);

/**
 * Interpret the keys Go's archive/tar and GNU tar both honour. An empty value is refused: Go
 * keeps the ustar field where GNU tar applies it or fails. An empty xattr is dropped, as Go does.
 * SCHILY.devmajor/devminor and LIBARCHIVE.xattr.* are ignored, as both of them ignore them:
 * honouring them here would give an entry numbers or xattrs that no runtime sees.
 */
export function interpretPax(records: PaxRecords, where: string): PaxOverrides {
  const out: PaxOverrides = { xattrs: new Map(), sparse: false };
  for (const [key, value] of records) {
    if (value.length === 0 && NO_EMPTY.has(key)) {
      throw new RechunkerError('BAD_TAR', `empty PAX ${key} in ${where}: GNU tar and Go read it differently`);
    }
    if (key.startsWith('SCHILY.xattr.')) {
      // GNU tar writes an empty xattr this way; Go drops it, so no Go-based runtime has it.
      if (value.length > 0) out.xattrs.set(key.slice(13), value);
      continue;
    }
    if (key.startsWith('GNU.sparse.')) {
      out.sparse = true;
      if (key === 'GNU.sparse.name') out.sparseName = value.toString('latin1');
      continue;
    }
    switch (key) {
      case 'path':
        out.path = value.toString('latin1');
        break;
      case 'linkpath':
        out.linkpath = value.toString('latin1');
        break;
      case 'uname':
        out.uname = value.toString('latin1');
        break;
      case 'gname':
        out.gname = value.toString('latin1');
        break;
      case 'size':
      case 'uid':
      case 'gid':
        out[key] = decimal(key, value, where);
        break;
      case 'mtime': {
        const t = parsePaxTime(value.toString('latin1'));
        if (!t) throw badValue(key, value, where);
        out.mtime = t;
        break;
      }
      // atime, ctime, comment, charset, hdrcharset and vendor keys do not affect the entry.
    }
  }
  return out;
}

/**
 * "SEC[.FRACTION]", optionally negative, to a floor-based (sec, nsec) pair without going through
 * a float: "-1.5" is 1.5 s before the epoch, i.e. sec -2 + nsec 500000000. Digits past the ninth
 * are dropped. Returns undefined when the text is not such a number.
 */
export function parsePaxTime(text: string): { sec: number; nsec: number } | undefined {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) return undefined;
  const whole = Number(m[2]);
  if (!Number.isSafeInteger(whole)) return undefined;
  const nsec = Number(((m[3] ?? '') + '000000000').slice(0, 9));
  if (m[1] !== '-') return { sec: whole, nsec };
  if (nsec === 0) return { sec: whole === 0 ? 0 : -whole, nsec: 0 };
  return { sec: -whole - 1, nsec: 1_000_000_000 - nsec };
}

/** The inverse of parsePaxTime, as GNU tar writes it: trailing zeros of the fraction trimmed. */
export function formatPaxTime(sec: number, nsec: number): string {
  let s = sec;
  let ns = nsec;
  let sign = '';
  if (s < 0) {
    sign = '-';
    if (ns !== 0) {
      s += 1;
      ns = 1_000_000_000 - ns;
    }
    s = -s;
  }
  const frac = ns === 0 ? '' : '.' + String(ns).padStart(9, '0').replace(/0+$/, '');
  return `${sign}${s}${frac}`;
}

/** One record, length prefix included: the length's own digits count, hence the loop. */
export function formatPaxRecord(key: string, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const rest = 1 + key.length + 1 + v.length + 1; // ' ' key '=' value '\n'
  let len = rest + 1;
  while (String(len).length + rest !== len) len = String(len).length + rest;
  const out = Buffer.allocUnsafe(len);
  let p = out.write(`${len} ${key}=`, 0, 'latin1');
  p += v.copy(out, p);
  out[p] = NEWLINE;
  return out;
}

export function formatPax(records: Iterable<readonly [string, Buffer | string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of records) parts.push(formatPaxRecord(k, v));
  return Buffer.concat(parts);
}

function decimal(key: string, value: Buffer, where: string): number {
  const text = value.toString('latin1');
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw badValue(key, value, where);
  return n;
}

function badValue(key: string, value: Buffer, where: string): RechunkerError {
  const shown = displayPath(value.toString('latin1', 0, 64));
  return new RechunkerError('BAD_TAR', `bad PAX ${key} value "${shown}" in ${where}`);
}

function isAllZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
