/**
 * One regression test per class the differential (differential.test.ts) found: archives that
 * GNU tar and Go's archive/tar read differently, that both refuse, or that Linux cannot hold.
 * Each is refused with BAD_TAR naming the entry, or read the one way both read it.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { applyLayer } from '../../src/graph/apply-layer.js';
import { ContentStore } from '../../src/graph/content-store.js';
import { FileGraph } from '../../src/graph/file-graph.js';
import { readTar } from '../../src/tar/reader.js';
import { END, gnuLongEntry, paxEntry, rawEntry, readAll } from '../helpers/make-tar.js';

const tar = (...parts: Buffer[]) => Buffer.concat([...parts, END]);
const badTar = (re: RegExp) => (e: unknown) =>
  e instanceof RechunkerError && e.code === 'BAD_TAR' && re.test(e.message);

async function applied(archive: Buffer): Promise<FileGraph> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-amb-'));
  const store = await ContentStore.create(dir);
  try {
    const graph = new FileGraph(store.contents);
    await applyLayer(graph, store, readTar([archive]), 0, 'layer 0');
    return graph;
  } finally {
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

describe('tar readings GNU tar and Go agree on', () => {
  it('several consecutive PAX x headers: only the last applies', async () => {
    const [got] = await readAll(
      tar(
        paxEntry([
          ['path', 'decoy'],
          ['uid', '777'],
        ]),
        paxEntry([['mtime', '5']]),
        rawEntry({ name: 'real', uid: 1 }),
      ),
    );
    assert.deepEqual([got!.entry.path, got!.entry.uid, got!.entry.mtimeSec], ['real', 1, 5]);
  });

  it('SCHILY.devmajor/devminor and LIBARCHIVE.xattr change nothing', async () => {
    const [got] = await readAll(
      tar(
        paxEntry([
          ['SCHILY.devmajor', '9'],
          ['SCHILY.devminor', '9'],
          ['LIBARCHIVE.xattr.user.x', 'eA'],
        ]),
        rawEntry({ name: 'null', typeflag: '3', devmajor: 1, devminor: 3 }),
      ),
    );
    assert.deepEqual([got!.entry.devmajor, got!.entry.devminor, got!.entry.xattrs.size], [1, 3, 0]);
  });

  it('a numeric field ending in NUL then garbage reads as the digits before the NUL', async () => {
    const [got] = await readAll(tar(rawEntry({ name: 'f', uid: { raw: '00144\x007' } })));
    assert.equal(got!.entry.uid, 0o144);
  });

  it('pre-POSIX device numbers read as 0, as both read them', async () => {
    const [got] = await readAll(tar(rawEntry({ name: 'null', typeflag: '3', magic: 'v7', devmajor: 1, devminor: 3 })));
    assert.deepEqual([got!.entry.devmajor, got!.entry.devminor], [0, 0]);
  });
});

describe('tar inputs refused as ambiguous', () => {
  const refused = async (archive: Buffer, re: RegExp) => assert.rejects(readAll(archive), badTar(re));

  it('a numeric field beginning with two NULs (GNU tar reads 0) is refused, on the size above all', async () => {
    await refused(
      tar(rawEntry({ name: 'f', size: { raw: '\x00\x00000000012\x00' } }, Buffer.from('0123456789'))),
      /size field reads as 0 in GNU tar and 10 in Go/,
    );
    await refused(tar(rawEntry({ name: 'f', uid: { raw: ' \x00001750\0' } })), /uid field reads as 0 in GNU tar/);
    await refused(tar(rawEntry({ name: 'f', mode: { raw: '\t0000644' } })), /mode field is not an octal number/);
  });

  it('a base-256 field whose first byte is not 0x80 or 0xff (GNU tar refuses it) is refused', async () => {
    await refused(
      tar(rawEntry({ name: 'f', uid: { raw: '\x81\0\0\0\0\0\0\x05' } })),
      /uid (is base-256 with a first byte GNU tar does not read|value \d+ out of range)/,
    );
  });

  it('a regular file whose name ends in "/" (a directory to GNU tar, which reads its body as headers)', async () => {
    const hidden = Buffer.concat([rawEntry({ name: 'hidden', mode: 0o4755 }, Buffer.from('x')), Buffer.alloc(1024)]);
    await refused(tar(rawEntry({ name: 'a/' }, hidden)), /entry "a\/" .* is a file whose name ends in "\/"/);
    await refused(tar(paxEntry([['path', 'p/']]), rawEntry({ name: 'p' }, hidden)), /entry "p\/"/);
    await refused(tar(gnuLongEntry('L', 'g/'), rawEntry({ name: 'g', magic: 'gnu' }, hidden)), /entry "g\/"/);
    await refused(tar(rawEntry({ name: '', prefix: 'pre' }, hidden)), /entry "pre\/"/);
    await refused(
      tar(rawEntry({ name: 'old/', typeflag: '\0' }, hidden)),
      /old-style directory "old\/" at offset 0 has a size/,
    );
  });

  it('a PAX global header (GNU applies it, Go ignores it, umoci refuses it), so no global xattr reaches a symlink', async () => {
    await refused(
      tar(
        paxEntry([['SCHILY.xattr.user.g', 'v']], { global: true }),
        rawEntry({ name: 's', typeflag: '2', linkname: 't' }),
      ),
      /PAX global header at offset 0/,
    );
    await refused(tar(paxEntry([['comment', 'git']], { global: true }), rawEntry({ name: 'f' })), /PAX global header/);
  });

  it('a PAX path and a different GNU long name (GNU takes one, Go the other)', async () => {
    await refused(
      tar(gnuLongEntry('L', 'from-gnu'), paxEntry([['path', 'from-pax']]), rawEntry({ name: 'x', magic: 'gnu' })),
      /both a PAX path and a GNU long name/,
    );
  });

  it('an empty PAX value (Go keeps the ustar field, GNU tar applies or refuses it)', async () => {
    await refused(tar(paxEntry([['mtime', '']]), rawEntry({ name: 'f' })), /empty PAX mtime/);
  });

  it('a contiguous file, type 7 (GNU extracts it, Go-based unpackers refuse it)', async () => {
    await refused(tar(rawEntry({ name: 'c', typeflag: '7' })), /contiguous file/);
  });

  it('a GNU header whose atime/ctime Go reads as a name prefix', async () => {
    await refused(tar(rawEntry({ name: 'f', magic: 'gnu', prefix: 'evil' })), /atime\/ctime Go reads as a name prefix/);
  });
});

describe('tar inputs both GNU tar and Go refuse', () => {
  const refused = async (archive: Buffer, re: RegExp) => assert.rejects(readAll(archive), badTar(re));

  it('a non-directory named "fd/." is refused, not stripped to "fd"', async () => {
    await refused(tar(rawEntry({ name: 'fd/.', typeflag: '6' })), /entry "fd\/\." .* ends in "\/\."/);
  });

  it('a hardlink target "a/" is refused, not stripped to "a"', async () => {
    await refused(
      tar(rawEntry({ name: 'a' }), rawEntry({ name: 'b', typeflag: '1', linkname: 'a/' })),
      /hardlink to "a\/"/,
    );
  });

  it('a PAX uid of 2^32 (umoci would give the file to root) is refused', async () => {
    await refused(tar(paxEntry([['uid', String(2 ** 32)]]), rawEntry({ name: 'f' })), /has uid 4294967296/);
  });

  it('a file followed by an entry below it does not silently become a directory', async () => {
    await assert.rejects(
      applied(tar(rawEntry({ name: 'a' }, Buffer.from('x')), rawEntry({ name: 'a/b' }))),
      badTar(/"a\/\.\.\." lies under "a", a file/),
    );
  });

  it('a file over a directory the same layer filled is refused (Go removes the tree, GNU tar fails)', async () => {
    await assert.rejects(
      applied(tar(rawEntry({ name: 'd', typeflag: '5' }), rawEntry({ name: 'd/x' }), rawEntry({ name: 'd' }))),
      badTar(/replaces a directory this layer filled/),
    );
  });

  it('a symlink replaced later in the same layer is refused (GNU tar may put the delayed symlink back)', async () => {
    await assert.rejects(
      applied(tar(rawEntry({ name: 'a', typeflag: '2', linkname: '../up' }), rawEntry({ name: 'a' }))),
      badTar(/replaces a symlink/),
    );
  });

  it('a hardlink to itself is refused (Go-based unpackers remove the path, then fail to link)', async () => {
    await assert.rejects(
      applied(tar(rawEntry({ name: 'a' }), rawEntry({ name: 'a', typeflag: '1', linkname: 'a' }))),
      badTar(/points to itself/),
    );
  });

  it('a whiteout of ".." is refused', async () => {
    await assert.rejects(applied(tar(rawEntry({ name: 'd/.wh...' }))), badTar(/names '', '\.' or '\.\.'/));
  });
});

describe('tar names no Linux filesystem holds', () => {
  const refused = async (archive: Buffer, re: RegExp) => assert.rejects(readAll(archive), badTar(re));

  it('a name component over 255 bytes', async () => {
    await refused(
      tar(paxEntry([['path', `d/${'c'.repeat(256)}`]]), rawEntry({ name: 'x' })),
      /name component of 256 bytes/,
    );
  });

  it('a path over 4095 bytes', async () => {
    await refused(tar(paxEntry([['path', 'p/'.repeat(2048) + 'f']]), rawEntry({ name: 'x' })), /path of 4097 bytes/);
  });

  it('an empty symlink target', async () => {
    await refused(tar(rawEntry({ name: 's', typeflag: '2', linkname: '' })), /symlink with an empty target/);
  });

  it('a user.* xattr on a symlink', async () => {
    await refused(
      tar(paxEntry([['SCHILY.xattr.user.k', 'v']]), rawEntry({ name: 's', typeflag: '2', linkname: 't' })),
      /symlink with xattr user\.k/,
    );
  });
});

describe('tar cost is linear in the entry', () => {
  it('a 1 MiB PAX path of 50-byte components is refused in well under a second', async () => {
    const long = Array.from({ length: 20_000 }, () => 'c'.repeat(49))
      .join('/')
      .slice(0, 1024 * 1024 - 100);
    const t0 = performance.now();
    await assert.rejects(
      readAll(tar(paxEntry([['path', long]]), rawEntry({ name: 'x' }))),
      badTar(/more than Linux's 4095/),
    );
    assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
  });

  it("a PAX body over Go's 1 MiB limit is refused before it is held", async () => {
    await assert.rejects(
      readAll(tar(paxEntry([['path', 'x'.repeat(1024 * 1024 + 1)]]), rawEntry({ name: 'x' }))),
      badTar(/more than the 1048576 accepted/),
    );
  });

  it('the deepest path Linux holds (2047 one-byte components) is read and applied in under a second', async () => {
    const deep = Array.from({ length: 2047 }, () => 'p').join('/');
    const t0 = performance.now();
    const graph = await applied(tar(paxEntry([['path', deep]]), rawEntry({ name: 'x' }, Buffer.from('leaf'))));
    const paths = [...graph.walk()].map(([p]) => p);
    assert.equal(paths.length, 2047);
    assert.equal(paths[paths.length - 1], deep);
    assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
  });
});
