import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { topDuplicatedTypes } from '../../src/analyze/dedup-figures.js';

test('duplicated bytes by file type: version numbers are not a type', async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await db.run('CREATE TABLE f (image VARCHAR, path VARCHAR, size BIGINT, digest VARCHAR, first BOOLEAN)');
    // Each content in two images: one copy of each is duplicated.
    const files = [
      ['usr/lib/libfoo.so.1.4', 100, 'a'],
      ['usr/lib/libbar.so', 50, 'b'],
      ['usr/bin/python3.11', 30, 'c'],
      ['usr/share/doc/x.tar.gz', 20, 'd'],
      ['etc/.hidden', 10, 'e'],
    ] as const;
    for (const image of ['one', 'two'])
      for (const [p, size, digest] of files)
        await db.run(`INSERT INTO f VALUES ('${image}', '${p}', ${size}, '${digest}', true)`);
    const types = await topDuplicatedTypes(db);
    assert.deepEqual(
      types.map((t) => [t.type, t.files, t.duplicatedBytes]),
      [
        ['so', 4, 150],
        ['', 2, 30],
        ['gz', 2, 20],
        ['hidden', 2, 10],
      ],
    );
  } finally {
    db.closeSync();
    instance.closeSync();
  }
});
