import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MediaType, RefNameAnnotation, type Index } from '../../src/oci/types.js';
import { OciLayout } from '../../src/layout/oci-layout.js';
import { withFileLock } from '../../src/util/file-lock.js';

describe('index.json updates under a lock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rechunker-lock-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const desc = (n: number) => ({
    mediaType: MediaType.OciManifest,
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    size: 100 + n,
  });
  const tags = async (layout: string) => {
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as Index;
    return index.manifests.map((m) => m.annotations?.[RefNameAnnotation]).sort();
  };

  it('keeps every tag when many writers update one layout at once', async () => {
    const layout = path.join(dir, 'many');
    // Each update reads, edits and replaces index.json; without the lock they interleave and drop tags.
    await Promise.all(Array.from({ length: 12 }, (_, i) => new OciLayout(layout).setManifest(desc(i), `t${i}`)));
    assert.deepEqual(await tags(layout), Array.from({ length: 12 }, (_, i) => `t${i}`).sort());
  });

  it('takes over a lock left by a process that is gone', async () => {
    const layout = path.join(dir, 'stale');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await new OciLayout(layout).setManifest(desc(1), 'a');
    await writeFile(path.join(layout, 'index.json.lock'), `${gone}\n`);
    await new OciLayout(layout).setManifest(desc(2), 'b');
    assert.deepEqual(await tags(layout), ['a', 'b']);
  });

  it('gives up with a message naming the lock when a live process holds it', async () => {
    const file = path.join(dir, 'held');
    await writeFile(`${file}.lock`, `${process.pid}\n`);
    await assert.rejects(
      withFileLock(file, async () => 1, 200),
      (e: Error & { code?: string }) => e.code === 'IO' && e.message.includes('held.lock'),
    );
  });
});
