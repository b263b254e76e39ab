import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { SqliteDb, columnNames, readVarint, type SqlValue } from '../../src/components/sqlite.js';
import { sharedFixture } from './assert-partition.js';

const FIXTURE = sharedFixture('rpmdb/cbl-mariner-2.0.rpmdb.sqlite');

function hasSqliteCli(): boolean {
  try {
    execFileSync('sqlite3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const SQLITE_CLI = hasSqliteCli();

/** Run a script through the sqlite3 CLI (Debian's package), the independent writer and oracle. */
function sqlite(db: string, script: string, args: string[] = []): string {
  return execFileSync('sqlite3', [...args, db], { input: script, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'rechunker-sqlite-'));
}

describe('sqlite reader', () => {
  it('reads varints of every length, including the 9-byte form', () => {
    assert.deepEqual(readVarint(Buffer.from([0x05]), 0, 1, 't'), [5n, 1]);
    assert.deepEqual(readVarint(Buffer.from([0x81, 0x00]), 0, 2, 't'), [128n, 2]);
    const nine = Buffer.alloc(9, 0xff);
    assert.deepEqual(readVarint(nine, 0, 9, 't'), [-1n, 9]);
    assert.throws(() => readVarint(Buffer.from([0x81]), 0, 1, 't'), (e: unknown) => e instanceof RechunkerError && e.code === 'UNSUPPORTED');
  });

  it('parses column names from CREATE TABLE statements', () => {
    assert.deepEqual(columnNames("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)"), ['hnum', 'blob']);
    assert.deepEqual(columnNames('CREATE TABLE t("a b" TEXT, [c] INT DEFAULT (1,2), d, PRIMARY KEY(d), FOREIGN KEY (d) REFERENCES x(y))'), ['a b', 'c', 'd']);
  });

  it('reads the real rpmdb fixture: schema, 129 rows in rowid order, overflow blobs whole', { skip: FIXTURE === undefined && 'fixture absent' }, () => {
    const buf = readFileSync(FIXTURE!);
    const db = new SqliteDb(buf);
    assert.equal(db.pageSize, 4096);
    const table = db.table('packages');
    assert.ok(table);
    assert.equal(table.rootPage, 2);
    assert.deepEqual(columnNames(table.sql), ['hnum', 'blob']);
    const rows = [...db.rows(table.rootPage)];
    assert.equal(rows.length, 129);
    let overflowed = 0;
    for (let i = 0; i < rows.length; i++) {
      const { rowid, values } = rows[i]!;
      if (i > 0) assert.ok(Number(rowid) > Number(rows[i - 1]!.rowid));
      assert.equal(values[0], null, 'INTEGER PRIMARY KEY is stored as NULL; the rowid holds it');
      const blob = values[1] as Buffer;
      // The rpm header's own sizes tell how long the blob must be: a check of overflow reassembly.
      assert.equal(blob.length, 8 + blob.readInt32BE(0) * 16 + blob.readInt32BE(4));
      if (blob.length > db.usable - 35) overflowed++;
    }
    assert.ok(overflowed > 100, `only ${overflowed} rows used overflow pages`);
  });

  it('matches the sqlite3 CLI on a deep tree of small pages, every serial type, UTF-16 text', { skip: !SQLITE_CLI && 'sqlite3 CLI absent' }, () => {
    const dir = tmp();
    try {
      for (const encoding of ['UTF-8', 'UTF-16le', 'UTF-16be']) {
        const path = join(dir, `t-${encoding}.db`);
        sqlite(
          path,
          `PRAGMA page_size=512; PRAGMA encoding='${encoding}';
           CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b BLOB, c REAL, d INTEGER);
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1500)
           INSERT INTO t SELECT i * 3 - 2000,
             CASE WHEN i % 7 = 0 THEN NULL ELSE 'row ' || i || ' é ' || substr(printf('%.*c', i % 900, 'x'), 1) END,
             CASE WHEN i % 5 = 0 THEN randomblob(i * 2) ELSE x'00ff' END,
             CASE WHEN i % 3 = 0 THEN i / 7.0 ELSE NULL END,
             CASE i % 6 WHEN 0 THEN 0 WHEN 1 THEN 1 WHEN 2 THEN -i WHEN 3 THEN i * 100000 WHEN 4 THEN i * 1099511627776 ELSE -9223372036854775807 END
           FROM n;`,
        );
        const ours = [...new SqliteDb(readFileSync(path)).rows(new SqliteDb(readFileSync(path)).table('t')!.rootPage)];
        const theirs = JSON.parse(sqlite(path, "SELECT id, a, hex(b) AS b, quote(c) AS c, CAST(d AS TEXT) AS d FROM t ORDER BY id;", ['-json'])) as Record<string, unknown>[];
        assert.equal(ours.length, theirs.length);
        for (let i = 0; i < ours.length; i++) {
          const [, a, b, c, d] = ours[i]!.values;
          const want = theirs[i]!;
          assert.equal(Number(ours[i]!.rowid), want.id);
          assert.equal(a, want.a);
          assert.equal((b as Buffer).toString('hex').toUpperCase(), want.b);
          if (c === null) assert.equal(want.c, 'NULL');
          else assert.equal(c, Number(want.c));
          assert.equal(String(d as SqlValue), want.d);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sees committed rows that are still only in the write-ahead log', { skip: !SQLITE_CLI && 'sqlite3 CLI absent' }, () => {
    const dir = tmp();
    try {
      const live = join(dir, 'live.db');
      const snap = join(dir, 'snap.db');
      // Copy the files while the CLI still holds the database open: the log is not checkpointed yet.
      sqlite(
        live,
        `PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
         CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO t(v) VALUES ('one'), ('two');
         BEGIN; INSERT INTO t(v) VALUES ('three'); COMMIT;\n` +
          // Dot-commands must start their line.
          `.shell cp '${live}' '${snap}'; cp '${live}-wal' '${snap}-wal'\n`,
      );
      const main = readFileSync(snap);
      const wal = readFileSync(`${snap}-wal`);
      assert.ok(wal.length > 32);
      const db = new SqliteDb(main, wal);
      assert.deepEqual([...db.rows(db.table('t')!.rootPage)].map((r) => r.values[1]), ['one', 'two', 'three']);
      // A torn last frame (bad checksum) must drop that transaction only, as sqlite would.
      const torn = Buffer.from(wal);
      torn[torn.length - 1] ^= 0xff;
      const older = new SqliteDb(main, torn);
      assert.deepEqual([...older.rows(older.table('t')!.rootPage)].map((r) => r.values[1]), ['one', 'two']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns corrupt or truncated databases into RechunkerError UNSUPPORTED, never a crash or a hang', { skip: FIXTURE === undefined && 'fixture absent' }, () => {
    const good = readFileSync(FIXTURE!);
    const readAll = (buf: Buffer): void => {
      const db = new SqliteDb(buf);
      for (const e of db.schema()) if (e.type === 'table') for (const _ of db.rows(e.rootPage));
    };
    const isOurs = (e: unknown): boolean => e instanceof RechunkerError && e.code === 'UNSUPPORTED';
    assert.throws(() => readAll(Buffer.from('not a database at all, clearly')), isOurs);
    for (const len of [0, 50, 100, 4096, 5000, 8192, 100_000, good.length - 1]) {
      assert.throws(() => readAll(good.subarray(0, len)), isOurs, `truncated to ${len}`);
    }
    // Deterministic pseudo-random corruption, aimed at the structural pages (header, schema, roots).
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    let failures = 0;
    for (let i = 0; i < 150; i++) {
      const bad = Buffer.from(good);
      const region = i % 3 === 0 ? 4096 : i % 3 === 1 ? 3 * 4096 : bad.length;
      for (let k = 0; k < 4; k++) bad[rand(region)] = rand(256);
      try {
        readAll(bad);
      } catch (e) {
        assert.ok(isOurs(e), `iteration ${i}: ${String(e)}`);
        failures++;
      }
    }
    assert.ok(failures > 10, 'corruption was never noticed');
  });
});
