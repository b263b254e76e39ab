/**
 * A database file with its write-ahead log folded in: the pages of every committed transaction in
 * the log replace the file's own (https://www.sqlite.org/fileformat.html, section 4). sqlite does
 * this itself when it opens a file beside its -wal, but sql.js has no file system to put the log
 * in, and rpm's database is in WAL mode: a build that stopped before a checkpoint leaves its newest
 * packages only in the log.
 */
import { RechunkerError } from '../errors.js';

const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

const bad = (message: string): RechunkerError => new RechunkerError('UNSUPPORTED', `sqlite: ${message}`);

/**
 * `db` with the committed frames of `wal` applied. Frames count only up to the last commit frame
 * whose salts and running checksum are valid; anything after is an unfinished transaction, which
 * sqlite would ignore too. A log whose own header is invalid is ignored, as sqlite ignores it.
 */
export function foldWal(db: Buffer, wal: Buffer, pageSize: number): Buffer {
  if (wal.length < WAL_HEADER) return db;
  const magic = wal.readUInt32BE(0);
  if (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) throw bad('write-ahead log has a bad magic number');
  if (wal.readUInt32BE(8) !== pageSize) throw bad('write-ahead log page size differs from the database');
  const bigEndian = magic === WAL_MAGIC_BE;
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let [s0, s1] = checksum(wal, 0, 24, 0, 0, bigEndian);
  if (s0 !== wal.readUInt32BE(24) || s1 !== wal.readUInt32BE(28)) return db;

  const committed = new Map<number, Buffer>();
  const pending = new Map<number, Buffer>();
  let pages: number | undefined;
  const frameLen = FRAME_HEADER + pageSize;
  for (let off = WAL_HEADER; off + frameLen <= wal.length; off += frameLen) {
    if (wal.readUInt32BE(off + 8) !== salt1 || wal.readUInt32BE(off + 12) !== salt2) break;
    [s0, s1] = checksum(wal, off, off + 8, s0, s1, bigEndian);
    [s0, s1] = checksum(wal, off + FRAME_HEADER, off + frameLen, s0, s1, bigEndian);
    if (s0 !== wal.readUInt32BE(off + 16) || s1 !== wal.readUInt32BE(off + 20)) break;
    const pageNo = wal.readUInt32BE(off);
    if (pageNo === 0) break;
    pending.set(pageNo, wal.subarray(off + FRAME_HEADER, off + frameLen));
    const dbPages = wal.readUInt32BE(off + 4);
    if (dbPages !== 0) {
      for (const [k, v] of pending) committed.set(k, v);
      pending.clear();
      pages = dbPages;
    }
  }
  if (pages === undefined) return db;
  // A commit frame gives the database's size in pages after it: the file may grow or shrink.
  const out = Buffer.alloc(pages * pageSize);
  db.copy(out, 0, 0, Math.min(db.length, out.length));
  for (const [pageNo, page] of committed) if (pageNo <= pages) page.copy(out, (pageNo - 1) * pageSize);
  return out;
}

function checksum(b: Buffer, start: number, end: number, s0: number, s1: number, bigEndian: boolean): [number, number] {
  for (let i = start; i + 8 <= end; i += 8) {
    const x0 = bigEndian ? b.readUInt32BE(i) : b.readUInt32LE(i);
    const x1 = bigEndian ? b.readUInt32BE(i + 4) : b.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}
