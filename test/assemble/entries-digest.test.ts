import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { summarizeEntries } from '../../src/assemble/entries-digest.js';
import type { LayerItem } from '../../src/assemble/output-entries.js';
import { buildLayer } from '../../src/assemble/write-layer.js';
import { newEntry } from '../../src/tar/entry.js';
import { writeTar } from '../../src/tar/writer.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Entries of every shape the writer frames differently: PAX long names, xattrs, links, empty and padded bodies. */
function items(body = Buffer.from('hello\n')): LayerItem[] {
  const long = `usr/share/${'deep/'.repeat(40)}name.txt`;
  const x = newEntry('etc/x', 'file', { size: body.length, xattrs: new Map([['user.component', Buffer.from('x')]]) });
  return [
    { entry: newEntry('.', 'dir') },
    { entry: newEntry('etc', 'dir', { mtimeSec: 1_700_000_000, mtimeNsec: 5 }) },
    { entry: x, body, contentDigest: sha(body) },
    { entry: newEntry('etc/empty', 'file') },
    { entry: newEntry('etc/link', 'symlink', { linkname: 'x' }) },
    { entry: newEntry('etc/hard', 'hardlink', { linkname: 'etc/x' }) },
    {
      entry: newEntry(long, 'file', { size: 513 }),
      body: Buffer.alloc(513, 1),
      contentDigest: sha(Buffer.alloc(513, 1)),
    },
  ];
}

async function tarOf(list: LayerItem[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of writeTar(list)) out.push(c);
  return Buffer.concat(out);
}

/** A body that fails when read: a layer reused on its summary must not read one. */
const unreadable: AsyncIterable<Buffer> = {
  [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('body read')) }),
};

describe('entries summary', () => {
  it('foresees the length of the tar the writer makes', async () => {
    const list = items();
    assert.equal(summarizeEntries(list).tarSize, (await tarOf(list)).length);
  });

  it('changes with any header field and with any body, and not otherwise', () => {
    const base = summarizeEntries(items()).digest;
    assert.equal(summarizeEntries(items()).digest, base, 'the same entries, the same digest');
    const touched = items();
    touched[1]!.entry.mtimeNsec = 6;
    assert.notEqual(summarizeEntries(touched).digest, base, 'an mtime');
    const chowned = items();
    chowned[4]!.entry.uid = 1;
    assert.notEqual(summarizeEntries(chowned).digest, base, 'an owner');
    assert.notEqual(summarizeEntries(items(Buffer.from('jello\n'))).digest, base, 'a body of the same length');
  });

  it('reuses the prior blob on a matching summary without reading a body, and compresses on a mismatch', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rechunker-entries-'));
    try {
      const list = items();
      const { digest } = summarizeEntries(list);
      const prior = {
        descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: 'sha256:aa', size: 3 },
        diffId: 'sha256:bb',
        components: ['x'],
        entries: digest,
      };
      const blind = () => list.map((i) => (i.body ? { ...i, body: unreadable } : i));
      const spec = { items: blind, workDir: dir, compression: 'gzip' as const };
      const reused = await buildLayer({ ...spec, reuse: { prior, likelySame: false, usable: async () => true } });
      assert.equal(reused.reused, prior.descriptor);
      assert.equal(reused.diffId, 'sha256:bb');
      assert.equal(reused.uncompressedSize, (await tarOf(list)).length);

      // Another summary: compressed in full (here its bodies are read), never hashed against the prior.
      const other = { ...prior, entries: 'sha256:00' };
      const built = await buildLayer({
        ...spec,
        items: () => items(),
        reuse: { prior: other, likelySame: true, usable: async () => true },
      });
      assert.equal(built.reused, undefined);
      assert.equal(built.diffId, `sha256:${sha(await tarOf(items()))}`);
      assert.equal(built.entries, digest);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
