import assert from 'node:assert/strict';
import { promises as fs, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ParquetIndex } from '../../src/analyze/parquet-index.js';

/**
 * An in-memory DuckDB spills what does not fit its memory limit to `.tmp` in the current
 * directory: a user's checkout, or a directory they cannot write. The index's spills go to a work
 * directory of its own, removed on close.
 */
describe('the analyze index spills into its own work directory', () => {
  let scratch = '';
  let cwd = '';
  const saved = { cwd: process.cwd(), tmpdir: process.env.TMPDIR };
  before(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-spill-'));
    cwd = path.join(scratch, 'cwd');
    await fs.mkdir(path.join(scratch, 'work'));
    await fs.mkdir(cwd);
    process.env.TMPDIR = path.join(scratch, 'work');
    process.chdir(cwd);
  });
  after(async () => {
    process.chdir(saved.cwd);
    if (saved.tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved.tmpdir;
    await fs.rm(scratch, { recursive: true, force: true });
  });

  it('a query larger than the memory limit spills under TMPDIR, not into the current directory', async () => {
    const index = await ParquetIndex.open(path.join(scratch, 'index'));
    const work = path.join(scratch, 'work');
    const [spill] = await fs.readdir(work);
    assert.match(spill ?? '', /^rechunker-duckdb-/);
    let spilled = 0;
    let inCwd = 0;
    const watch = setInterval(() => {
      spilled = Math.max(spilled, readdirSync(path.join(work, spill!)).length);
      inCwd = Math.max(inCwd, readdirSync(cwd).length);
    }, 10);
    try {
      // 3 million distinct 32-byte strings: more than the index's 48 MB.
      const r = await index.db.runAndReadAll(
        'select count(*) from (select distinct md5(i::varchar) from range(3000000) t(i))',
      );
      assert.equal(Number(r.getRows()[0]![0]), 3_000_000);
    } finally {
      clearInterval(watch);
      await index.close();
    }
    assert.ok(spilled > 0, 'the query spilled (else this test proves nothing)');
    assert.equal(inCwd, 0, 'nothing was written in the current directory');
    assert.deepEqual(await fs.readdir(work), [], 'the spill directory is removed on close');
  });
});
