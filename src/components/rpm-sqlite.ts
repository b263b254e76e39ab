/**
 * The package header blobs of rpm's sqlite database (`Packages(hnum, blob)`), read with sql.js:
 * SQLite itself, compiled to wasm, so no hand-written file-format reader and no native build.
 *
 * Why sql.js rather than better-sqlite3 12, measured on 2026-12-01 on the project's build machine
 * (2 cores, Node 20.20, npm 11.19; the machine was loaded, so times are ranges over 7 runs):
 * - Install. A clean `npm ci` took 120-169 s without either. `npm install sql.js` added one
 *   package, no install script, in 4 s. With better-sqlite3 the same clean `npm ci` took 770 s:
 *   its prebuilt binary is fetched from github.com, and where that fails (here) node-gyp compiles
 *   SQLite, which also needs a C++ toolchain and an `allowScripts` entry. CI installs fresh.
 * - Reading the 3.6 MB, 129-package fixture rpmdb: sql.js 0.15-0.3 s to start (wasm compile) and
 *   0.25-0.7 s to read, peak RSS 95-100 MB; better-sqlite3 0.05-0.14 s and 0.07-0.33 s, 64 MB;
 *   node alone 44 MB. An image with an rpm database pays this once; other images and commands do
 *   not, since the library is imported on first use.
 * sql.js has no file system in Node, so a -wal file is folded into the pages first (sqlite-wal.ts).
 */
import type { Database, SqlJsStatic } from 'sql.js';
import { RechunkerError } from '../errors.js';
import { foldWal } from './sqlite-wal.js';

export interface PackageRow {
  hnum: number;
  blob: Buffer;
}

const MAGIC = 'SQLite format 3\0';

const bad = (message: string): RechunkerError => new RechunkerError('UNSUPPORTED', `sqlite: ${message}`);

let engine: Promise<SqlJsStatic> | undefined;
const sqlJs = (): Promise<SqlJsStatic> => (engine ??= import('sql.js').then((m) => m.default()));

/** Every row of the Packages table, in hnum order; corrupt input is RechunkerError('UNSUPPORTED'). */
export async function readPackageRows(file: Buffer, wal?: Buffer): Promise<PackageRow[]> {
  const image = snapshot(file, wal);
  const SQL = await sqlJs();
  let db: Database | undefined;
  try {
    db = new SQL.Database(image);
    const stmt = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum');
    const rows: PackageRow[] = [];
    try {
      while (stmt.step()) {
        const [hnum, blob] = stmt.get();
        if (typeof hnum !== 'number') throw bad(`a row's hnum is ${hnum === null ? 'NULL' : typeof hnum}`);
        if (!(blob instanceof Uint8Array)) throw bad(`row ${hnum}: blob column is not a BLOB`);
        rows.push({ hnum, blob: Buffer.from(blob) });
      }
    } finally {
      stmt.free();
    }
    return rows;
  } catch (err) {
    if (err instanceof RechunkerError) throw err;
    // sql.js reports SQLite's errors ('database disk image is malformed', 'no such table: Packages').
    throw bad(err instanceof Error ? err.message : String(err));
  } finally {
    db?.close();
  }
}

/**
 * A copy of the file as one self-contained database: the log folded in and the header marked as
 * a rollback-journal database, so SQLite never looks for a log it cannot have. A file that is not
 * a whole number of pages, or shorter than its header says, is refused: SQLite would read the
 * missing bytes as zeros and could return a damaged blob without an error.
 */
function snapshot(file: Buffer, wal: Buffer | undefined): Buffer {
  if (file.length < 100 || file.toString('latin1', 0, 16) !== MAGIC) throw bad('not an SQLite 3 database');
  const raw = file.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw bad(`invalid page size ${raw}`);
  const folded = wal === undefined || wal.length === 0 ? file : foldWal(file, wal, pageSize);
  const image = folded === file ? Buffer.from(file) : folded;
  if (image.length % pageSize !== 0) throw bad(`${image.length} bytes is not a whole number of ${pageSize}-byte pages`);
  // The in-header page count is kept only by writers that also set "version-valid-for" (spec 1.3.7).
  const pages = image.readUInt32BE(28);
  if (pages > 0 && image.readUInt32BE(24) === image.readUInt32BE(92) && image.length < pages * pageSize) {
    throw bad(`truncated: ${image.length / pageSize} of ${pages} pages`);
  }
  image[18] = 1;
  image[19] = 1;
  return image;
}
