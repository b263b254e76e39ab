import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { BatchedFileWriter } from '../../src/util/batched-file-writer.js';

describe('BatchedFileWriter', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rechunker-batched-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every byte in order, whether chunks are smaller or larger than a batch', async () => {
    const chunks = [
      ...Array.from({ length: 25 }, (_, i) => Buffer.alloc(700, i)),
      Buffer.alloc(5000, 99),
      Buffer.alloc(3, 1),
    ];
    const file = path.join(dir, 'a');
    await pipeline(Readable.from(chunks), new BatchedFileWriter(file, 4096));
    assert.ok((await readFile(file)).equals(Buffer.concat(chunks)));
  });

  it('makes an empty file from an empty stream, and truncates what was there', async () => {
    const file = path.join(dir, 'b');
    await pipeline(Readable.from([Buffer.alloc(10, 1)]), new BatchedFileWriter(file));
    await pipeline(Readable.from([]), new BatchedFileWriter(file));
    assert.equal((await readFile(file)).length, 0);
  });

  it('fails the pipeline when the file cannot be made, and when the source fails', async () => {
    await assert.rejects(
      pipeline(Readable.from([Buffer.alloc(10)]), new BatchedFileWriter(path.join(dir, 'no', 'such', 'dir'))),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
    );
    const failing = new Readable({
      read() {
        this.destroy(new Error('source broke'));
      },
    });
    await assert.rejects(pipeline(failing, new BatchedFileWriter(path.join(dir, 'c'))), /source broke/);
  });
});
