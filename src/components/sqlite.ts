/**
 * A minimal read-only reader of the SQLite file format (https://www.sqlite.org/fileformat.html),
 * enough to list a table's rows from a database held in a Buffer. rpm's sqlite backend is the
 * only user: Node 20 has no sqlite, and a native addon would be a heavy dependency for reading
 * one table. Index b-trees, freelists and pointer maps are never needed to read a table in
 * rowid order, so they are ignored.
 *
 * Every offset read from the file is checked: a corrupt or hostile database must end in a
 * RechunkerError('UNSUPPORTED'), never a RangeError, a hang or a huge allocation.
 */
import { RechunkerError } from '../errors.js';

export type SqlValue = null | number | bigint | string | Buffer;

export interface SqliteRow {
  rowid: number | bigint;
  values: SqlValue[];
}

export interface SchemaEntry {
  type: string;
  name: string;
  tableName: string;
  rootPage: number;
  sql: string;
}

const MAGIC = 'SQLite format 3\0';
const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;

function bad(message: string): RechunkerError {
  return new RechunkerError('UNSUPPORTED', `sqlite: ${message}`);
}

export class SqliteDb {
  readonly pageSize: number;
  /** Page size minus the reserved bytes at the end of each page (the spec's U). */
  readonly usable: number;
  readonly pageCount: number;
  private readonly encoding: 'utf8' | 'utf16le' | 'utf16be';
  /** Pages replaced by committed WAL frames: a database in WAL mode may hold its newest rows there. */
  private readonly walPages = new Map<number, Buffer>();

  constructor(
    private readonly buf: Buffer,
    wal?: Buffer,
  ) {
    if (buf.length < 100 || buf.toString('latin1', 0, 16) !== MAGIC) throw bad('not an SQLite 3 database');
    const raw = buf.readUInt16BE(16);
    this.pageSize = raw === 1 ? 65536 : raw;
    if (this.pageSize < 512 || this.pageSize > 65536 || (this.pageSize & (this.pageSize - 1)) !== 0) {
      throw bad(`invalid page size ${raw}`);
    }
    this.usable = this.pageSize - buf[20]!;
    if (this.usable < 480) throw bad(`reserved space ${buf[20]} leaves too little of a page`);
    const enc = buf.readUInt32BE(56);
    this.encoding = enc === 2 ? 'utf16le' : enc === 3 ? 'utf16be' : 'utf8';
    // The in-header size is only trusted when written by a version that maintains it (spec 1.3.7).
    const headerCount = buf.readUInt32BE(28);
    const valid = headerCount > 0 && buf.readUInt32BE(24) === buf.readUInt32BE(92);
    let count = valid ? headerCount : Math.floor(buf.length / this.pageSize);
    if (wal !== undefined && wal.length > 0) count = this.applyWal(wal, count);
    this.pageCount = count;
  }

  /** Rows of sqlite_schema: tables and indexes with their root pages. */
  schema(): SchemaEntry[] {
    const out: SchemaEntry[] = [];
    for (const row of this.rows(1)) {
      const [type, name, tableName, rootPage, sql] = row.values;
      out.push({
        type: typeof type === 'string' ? type : '',
        name: typeof name === 'string' ? name : '',
        tableName: typeof tableName === 'string' ? tableName : '',
        rootPage: typeof rootPage === 'number' ? rootPage : 0,
        sql: typeof sql === 'string' ? sql : '',
      });
    }
    return out;
  }

  /** A table's schema entry; SQL identifiers are case-insensitive. */
  table(name: string): SchemaEntry | undefined {
    const lower = name.toLowerCase();
    return this.schema().find((e) => e.type === 'table' && e.name.toLowerCase() === lower);
  }

  /** Every row of the table b-tree rooted at `rootPage`, in rowid order. */
  *rows(rootPage: number): Generator<SqliteRow> {
    const seen = new Set<number>();
    // Explicit stack instead of recursion: depth comes from the file, and cycles are caught by `seen`.
    const stack: number[] = [rootPage];
    while (stack.length > 0) {
      const pageNo = stack.pop()!;
      if (seen.has(pageNo)) throw bad(`b-tree page ${pageNo} reached twice (cycle)`);
      seen.add(pageNo);
      const page = this.page(pageNo);
      const base = pageNo === 1 ? 100 : 0;
      const kind = page[base]!;
      if (kind !== 5 && kind !== 13) throw bad(`page ${pageNo} is not a table b-tree page (type ${kind})`);
      const headerLen = kind === 5 ? 12 : 8;
      const nCells = page.readUInt16BE(base + 3);
      const ptrEnd = base + headerLen + 2 * nCells;
      if (ptrEnd > this.usable) throw bad(`page ${pageNo}: ${nCells} cells do not fit`);
      const cellAt = (i: number): number => {
        const off = page.readUInt16BE(base + headerLen + 2 * i);
        if (off < ptrEnd || off >= this.usable) throw bad(`page ${pageNo}: cell ${i} offset ${off} out of range`);
        return off;
      };
      if (kind === 5) {
        const children: number[] = [];
        for (let i = 0; i < nCells; i++) {
          const off = cellAt(i);
          if (off + 4 > this.usable) throw bad(`page ${pageNo}: cell ${i} truncated`);
          children.push(page.readUInt32BE(off));
        }
        children.push(page.readUInt32BE(base + 8));
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
      } else {
        for (let i = 0; i < nCells; i++) yield this.leafCell(page, pageNo, cellAt(i));
      }
    }
  }

  private leafCell(page: Buffer, pageNo: number, off: number): SqliteRow {
    const where = `page ${pageNo} cell at ${off}`;
    const [size, afterSize] = readVarint(page, off, this.usable, where);
    const [rowid, afterRowid] = readVarint(page, afterSize, this.usable, where);
    if (size < 0n || size > BigInt(this.pageCount) * BigInt(this.usable)) throw bad(`${where}: payload size ${size} impossible`);
    const payloadLen = Number(size);
    const local = this.localPayload(payloadLen);
    if (afterRowid + local > this.usable) throw bad(`${where}: payload runs past the page`);
    let payload: Buffer;
    if (local === payloadLen) {
      payload = page.subarray(afterRowid, afterRowid + local);
    } else {
      if (afterRowid + local + 4 > this.usable) throw bad(`${where}: overflow pointer past the page`);
      payload = this.readOverflow(page.subarray(afterRowid, afterRowid + local), page.readUInt32BE(afterRowid + local), payloadLen, where);
    }
    const id = rowid >= BigInt(Number.MIN_SAFE_INTEGER) && rowid <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(rowid) : rowid;
    return { rowid: id, values: this.record(payload, where) };
  }

  /** How much of a table-leaf payload is stored on the page itself (spec 1.6, "cell payload overflow"). */
  private localPayload(p: number): number {
    const u = this.usable;
    const x = u - 35;
    if (p <= x) return p;
    const m = Math.floor(((u - 12) * 32) / 255) - 23;
    const k = m + ((p - m) % (u - 4));
    return k <= x ? k : m;
  }

  private readOverflow(first: Buffer, next: number, total: number, where: string): Buffer {
    const out = Buffer.allocUnsafe(total);
    first.copy(out, 0);
    let filled = first.length;
    const seen = new Set<number>();
    while (filled < total) {
      if (next === 0) throw bad(`${where}: overflow chain ends after ${filled} of ${total} bytes`);
      if (seen.has(next)) throw bad(`${where}: overflow chain loops at page ${next}`);
      seen.add(next);
      const page = this.page(next);
      const take = Math.min(total - filled, this.usable - 4);
      page.copy(out, filled, 4, 4 + take);
      filled += take;
      next = page.readUInt32BE(0);
    }
    return out;
  }

  /** Decode a record (spec 2.1): a header of serial types, then the values. */
  private record(payload: Buffer, where: string): SqlValue[] {
    const [hdrLen, afterLen] = readVarint(payload, 0, payload.length, where);
    if (hdrLen < BigInt(afterLen) || hdrLen > BigInt(payload.length)) throw bad(`${where}: record header length ${hdrLen} invalid`);
    const hdrEnd = Number(hdrLen);
    const values: SqlValue[] = [];
    let pos = afterLen;
    let body = hdrEnd;
    while (pos < hdrEnd) {
      const [st, next] = readVarint(payload, pos, hdrEnd, where);
      pos = next;
      const t = st > 0xffffffffn ? -1 : Number(st);
      const len = serialLength(t);
      if (len < 0) throw bad(`${where}: unknown serial type ${st}`);
      if (body + len > payload.length) throw bad(`${where}: record value runs past the payload`);
      values.push(this.value(payload, body, t, len));
      body += len;
    }
    return values;
  }

  private value(b: Buffer, off: number, t: number, len: number): SqlValue {
    switch (t) {
      case 0:
        return null;
      case 1:
        return b.readInt8(off);
      case 2:
        return b.readInt16BE(off);
      case 3:
        return b.readIntBE(off, 3);
      case 4:
        return b.readInt32BE(off);
      case 5:
        return b.readIntBE(off, 6);
      case 6: {
        const v = b.readBigInt64BE(off);
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 7:
        return b.readDoubleBE(off);
      case 8:
        return 0;
      case 9:
        return 1;
    }
    const bytes = b.subarray(off, off + len);
    if (t % 2 === 0) return Buffer.from(bytes);
    if (this.encoding === 'utf16be') return Buffer.from(bytes).swap16().toString('utf16le');
    return bytes.toString(this.encoding);
  }

  /** Page `n` (1-based), from the WAL when it holds a newer copy. */
  private page(n: number): Buffer {
    if (!Number.isInteger(n) || n < 1 || n > this.pageCount) throw bad(`page number ${n} out of range (1..${this.pageCount})`);
    const fromWal = this.walPages.get(n);
    if (fromWal !== undefined) return fromWal;
    const start = (n - 1) * this.pageSize;
    if (start + this.pageSize > this.buf.length) throw bad(`page ${n} lies past the end of the file (truncated?)`);
    return this.buf.subarray(start, start + this.pageSize);
  }

  /**
   * Overlay the committed frames of a write-ahead log (spec 4.1): frames count only up to the last
   * commit frame whose salts and running checksum are valid; anything after is an unfinished
   * transaction and sqlite itself would ignore it. Returns the database size in pages.
   */
  private applyWal(wal: Buffer, count: number): number {
    if (wal.length < 32) return count;
    const magic = wal.readUInt32BE(0);
    if (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) throw bad('write-ahead log has a bad magic number');
    if (wal.readUInt32BE(8) !== this.pageSize) throw bad('write-ahead log page size differs from the database');
    const bigEndian = magic === WAL_MAGIC_BE;
    const salt1 = wal.readUInt32BE(16);
    const salt2 = wal.readUInt32BE(20);
    let [s0, s1] = walChecksum(wal, 0, 24, 0, 0, bigEndian);
    if (s0 !== wal.readUInt32BE(24) || s1 !== wal.readUInt32BE(28)) return count;
    const pending = new Map<number, Buffer>();
    const frameLen = 24 + this.pageSize;
    for (let off = 32; off + frameLen <= wal.length; off += frameLen) {
      if (wal.readUInt32BE(off + 8) !== salt1 || wal.readUInt32BE(off + 12) !== salt2) break;
      [s0, s1] = walChecksum(wal, off, off + 8, s0, s1, bigEndian);
      [s0, s1] = walChecksum(wal, off + 24, off + frameLen, s0, s1, bigEndian);
      if (s0 !== wal.readUInt32BE(off + 16) || s1 !== wal.readUInt32BE(off + 20)) break;
      const pageNo = wal.readUInt32BE(off);
      if (pageNo === 0) break;
      pending.set(pageNo, wal.subarray(off + 24, off + frameLen));
      const dbSize = wal.readUInt32BE(off + 4);
      if (dbSize !== 0) {
        for (const [k, v] of pending) this.walPages.set(k, v);
        pending.clear();
        count = dbSize;
      }
    }
    return count;
  }
}

function walChecksum(b: Buffer, start: number, end: number, s0: number, s1: number, bigEndian: boolean): [number, number] {
  for (let i = start; i + 8 <= end; i += 8) {
    const x0 = bigEndian ? b.readUInt32BE(i) : b.readUInt32LE(i);
    const x1 = bigEndian ? b.readUInt32BE(i + 4) : b.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

function serialLength(t: number): number {
  if (t < 0) return -1;
  if (t <= 4) return [0, 1, 2, 3, 4][t]!;
  if (t === 5) return 6;
  if (t === 6 || t === 7) return 8;
  if (t === 8 || t === 9) return 0;
  if (t >= 12) return Math.floor((t - 12) / 2);
  return -1; // 10 and 11 are reserved for internal use and never appear in a valid file
}

/** SQLite varint: 1-9 bytes, big-endian 7-bit groups, the 9th byte contributing all 8 bits. */
export function readVarint(b: Buffer, off: number, limit: number, where: string): [bigint, number] {
  let v = 0n;
  for (let i = 0; i < 9; i++) {
    if (off + i >= limit) throw bad(`${where}: varint runs past its bounds`);
    const byte = b[off + i]!;
    if (i === 8) return [BigInt.asIntN(64, (v << 8n) | BigInt(byte)), off + 9];
    v = (v << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) return [BigInt.asIntN(64, v), off + i + 1];
  }
  throw bad(`${where}: unreachable varint state`);
}

/**
 * Column names of a CREATE TABLE statement, in order. Just enough SQL to find a column by name:
 * split the parenthesised body on top-level commas and drop table constraints.
 */
export function columnNames(sql: string): string[] {
  const open = sql.indexOf('(');
  const close = sql.lastIndexOf(')');
  if (open < 0 || close <= open) return [];
  const body = sql.slice(open + 1, close);
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const ch of body) {
    if (quote !== '') {
      if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"' || ch === '`' || ch === '[') {
      quote = ch === '[' ? ']' : ch;
    } else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  const names: string[] = [];
  for (const part of parts) {
    const m = /^\s*(?:"([^"]*)"|'([^']*)'|`([^`]*)`|\[([^\]]*)\]|([^\s(]+))/.exec(part);
    if (!m) continue;
    const name = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5] ?? '';
    if (m[5] !== undefined && /^(constraint|primary|unique|check|foreign)$/i.test(name)) continue;
    names.push(name);
  }
  return names;
}
