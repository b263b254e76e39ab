import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsFailure } from '../util/fs-failure.js';
import { newEntry } from '../tar/entry.js';
import type { TarWriteItem } from '../tar/writer.js';
import { writeTar } from '../tar/writer.js';

const BLOB_NAME = /^[a-f0-9]{64}$/;

/**
 * The entries of an OCI layout as an archive, in byte order of their names, with fixed
 * metadata (root-owned, mtime 0, 0755 directories, 0644 files): the same layout always gives the
 * same bytes. Only the layout's own files are taken (`oci-layout`, `index.json`, sha256 blobs).
 */
async function* layoutItems(dir: string): AsyncGenerator<TarWriteItem> {
  const blobDir = path.join(dir, 'blobs', 'sha256');
  let blobs: string[] = [];
  try {
    blobs = (await fs.readdir(blobDir)).filter((n) => BLOB_NAME.test(n));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const files = ['oci-layout', 'index.json', ...blobs.map((b) => `blobs/sha256/${b}`)].sort();
  const dirs = ['blobs', 'blobs/sha256'];
  const names = [...files, ...dirs].sort();
  for (const name of names) {
    if (dirs.includes(name)) {
      yield { entry: newEntry(name, 'dir', { mode: 0o755 }) };
      continue;
    }
    const abs = path.join(dir, name);
    const st = await fs.stat(abs);
    const entry = newEntry(name, 'file', { mode: 0o644, size: st.size });
    yield st.size === 0
      ? { entry }
      : { entry, body: createReadStream(abs, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer> };
  }
}

/**
 * Write the layout in `dir` as the tar archive `file`: to a temporary name beside it, flushed to
 * disk, then renamed over `file`, so an interrupted run leaves any previous archive whole.
 */
export async function writeLayoutArchive(dir: string, file: string, name = `oci-archive:${file}`): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    // 'wx': a fresh file of ours, never something already there (or a link planted under the name).
    await pipeline(
      Readable.from(writeTar(layoutItems(dir)), { objectMode: false }),
      createWriteStream(tmp, { flags: 'wx', mode: 0o644 }),
    );
    const handle = await fs.open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw fsFailure(e, name, 'destination');
  }
}
