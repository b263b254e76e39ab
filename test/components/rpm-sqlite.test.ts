import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RechunkerError } from '../../src/errors.js';
import { readPackageRows } from '../../src/components/rpm-sqlite.js';
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

const RPM_SCHEMA = "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL);";
const isOurs = (e: unknown): boolean => e instanceof RechunkerError && e.code === 'UNSUPPORTED';

describe('rpm sqlite reader', () => {
  it('reads the real rpmdb fixture: 129 rows in hnum order, overflow blobs whole', {
    skip: !FIXTURE && 'fixture absent',
  }, async () => {
    const rows = await readPackageRows(readFileSync(FIXTURE!));
    assert.equal(rows.length, 129);
    let overflowed = 0;
    for (let i = 0; i < rows.length; i++) {
      const { hnum, blob } = rows[i]!;
      if (i > 0) assert.ok(hnum > rows[i - 1]!.hnum);
      // The rpm header's own sizes tell how long the blob must be: a check of overflow reassembly.
      assert.equal(blob.length, 8 + blob.readInt32BE(0) * 16 + blob.readInt32BE(4));
      if (blob.length > 4096 - 35) overflowed++;
    }
    assert.ok(overflowed > 100, `only ${overflowed} rows used overflow pages`);
  });

  it('matches the sqlite3 CLI on a deep tree of small pages and long overflow chains', {
    skip: !SQLITE_CLI && 'sqlite3 CLI absent',
  }, async () => {
    const dir = tmp();
    try {
      const path = join(dir, 'packages.db');
      sqlite(
        path,
        `PRAGMA page_size=512; ${RPM_SCHEMA}
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1500)
         INSERT INTO Packages SELECT i * 3 - 2000, CASE WHEN i % 5 = 0 THEN randomblob(i * 7) ELSE x'00ff' END FROM n;`,
      );
      const ours = await readPackageRows(readFileSync(path));
      const query = 'SELECT hnum, hex(blob) AS b FROM Packages ORDER BY hnum;';
      const theirs = JSON.parse(sqlite(path, query, ['-json'])) as { hnum: number; b: string }[];
      assert.equal(ours.length, 1500);
      assert.deepEqual(
        ours.map((r) => [r.hnum, r.blob.toString('hex').toUpperCase()]),
        theirs.map((r) => [r.hnum, r.b]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sees committed rows that are still only in the write-ahead log', {
    skip: !SQLITE_CLI && 'sqlite3 CLI absent',
  }, async () => {
    const dir = tmp();
    try {
      const live = join(dir, 'live.db');
      const snap = join(dir, 'snap.db');
      // Copy the files while the CLI still holds the database open: the log is not checkpointed yet.
      sqlite(
        live,
        `PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; ${RPM_SCHEMA}
         INSERT INTO Packages(blob) VALUES (x'01'), (x'02');
         BEGIN; INSERT INTO Packages(blob) VALUES (x'03'); COMMIT;\n` +
          // Dot-commands must start their line.
          `.shell cp '${live}' '${snap}'; cp '${live}-wal' '${snap}-wal'\n`,
      );
      const main = readFileSync(snap);
      const wal = readFileSync(`${snap}-wal`);
      assert.ok(wal.length > 32);
      const blobs = async (w?: Buffer): Promise<string[]> =>
        (await readPackageRows(main, w)).map((r) => r.blob.toString('hex'));
      assert.deepEqual(await blobs(wal), ['01', '02', '03']);
      // A torn last frame (bad checksum) must drop that transaction only, as sqlite would.
      const torn = Buffer.from(wal);
      torn[torn.length - 1] ^= 0xff;
      assert.deepEqual(await blobs(torn), ['01', '02']);
      // Without the log the table does not exist yet: the reader must not have read it from elsewhere.
      await assert.rejects(blobs(), (e: unknown) => isOurs(e) && /no such table/.test((e as Error).message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns corrupt or truncated databases into RechunkerError UNSUPPORTED, never a crash or a hang', {
    skip: !FIXTURE && 'fixture absent',
  }, async () => {
    const good = readFileSync(FIXTURE!);
    await assert.rejects(readPackageRows(Buffer.from('not a database at all, clearly')), isOurs);
    for (const len of [0, 50, 100, 4096, 5000, 8192, 100_000, good.length - 1, good.length - 4096]) {
      await assert.rejects(readPackageRows(good.subarray(0, len)), isOurs, `truncated to ${len}`);
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
        await readPackageRows(bad);
      } catch (e) {
        assert.ok(isOurs(e), `iteration ${i}: ${String(e)}`);
        failures++;
      }
    }
    assert.ok(failures > 10, `corruption was noticed only ${failures} times`);
  });

  it('loads the sqlite library only when a database is read', { skip: !FIXTURE && 'fixture absent' }, () => {
    const detect = new URL('../../src/components/detect.ts', import.meta.url).href;
    const mapTree = new URL('../helpers/map-tree.ts', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      import { readFileSync } from 'node:fs';
      const { detectComponents } = await import(${JSON.stringify(detect)});
      const { MapTree } = await import(${JSON.stringify(mapTree)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/sql.js/'));
      await detectComponents(new MapTree([{ path: 'etc/hostname', content: 'x' }]), {});
      const before = loaded();
      const db = readFileSync(${JSON.stringify(FIXTURE)});
      await detectComponents(new MapTree([{ path: 'var/lib/rpm/rpmdb.sqlite', content: db }]), {});
      console.log(JSON.stringify([before, loaded()]));`;
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const args = ['--import', 'tsx', '--input-type=module', '-e', script];
    const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), [false, true]);
  });
});
