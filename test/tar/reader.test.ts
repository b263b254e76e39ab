import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { newEntry, type TarEntry } from '../../src/tar/entry.js';
import { readTar } from '../../src/tar/reader.js';
import {
  chunked,
  collect,
  END,
  gnuLongEntry,
  makeTar,
  paxEntry,
  rawEntry,
  readAll,
  type EntrySpec,
} from '../helpers/make-tar.js';

const W = 'layer sha256:abcd of oci:/x:tag';
const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');
// user::rw- user:1000:rw- group::r-- mask::rw- other::r--
const ACL = Buffer.from(
  '0200000001000600ffffffff02000600e803000004000400ffffffff10000600ffffffff20000400ffffffff',
  'hex',
);
const coded =
  (code: string, re: RegExp = /./) =>
  (e: unknown) =>
    e instanceof RechunkerError && e.code === code && re.test(e.message);

/** Write with our writer, read back with our reader under several chunkings; return entries. */
async function roundTrip(specs: EntrySpec[]): Promise<{ entry: TarEntry; body: Buffer }[]> {
  const tar = await makeTar(specs);
  const whole = await readAll(tar, { where: W });
  for (const chunkSize of [1, 7, 511, 513, 4096])
    assert.deepEqual(await readAll(tar, { where: W, chunkSize }), whole, `chunk size ${chunkSize}`);
  return whole;
}

function expected(spec: EntrySpec): TarEntry {
  const { body, xattrs, type, ...rest } = spec;
  const size = type === undefined || type === 'file' ? Buffer.from(body ?? '').length : 0;
  const map =
    xattrs instanceof Map
      ? xattrs
      : new Map(Object.entries(xattrs ?? {}).map(([k, v]) => [k, Buffer.from(v)] as const));
  return newEntry(spec.path, type ?? 'file', { ...rest, size, xattrs: map });
}

describe('readTar round trip with our writer', () => {
  it('keeps every entry type and field', async () => {
    const specs: EntrySpec[] = [
      { path: '.', type: 'dir', mode: 0o755, mtimeSec: 1700000000 },
      { path: 'etc', type: 'dir', mode: 0o1777, uid: 1, gid: 2, uname: 'daemon', gname: 'daemon' },
      { path: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n', mode: 0o644 },
      {
        path: 'usr/bin/ping',
        body: Buffer.alloc(70000, 0xab),
        mode: 0o4755,
        xattrs: { 'security.capability': CAP_NET_RAW },
      },
      { path: 'usr/bin/ping6', type: 'hardlink', linkname: 'usr/bin/ping', mode: 0o4755 },
      { path: 'bin', type: 'symlink', linkname: 'usr/bin', mode: 0o777 },
      { path: 'etc/mtab', type: 'symlink', linkname: '/proc/self/mounts', mode: 0o777 },
      { path: 'etc/up', type: 'symlink', linkname: '../../../../x', mode: 0o777 },
      { path: 'dev/null', type: 'chardev', devmajor: 1, devminor: 3, mode: 0o666 },
      { path: 'dev/sda1', type: 'blockdev', devmajor: 8, devminor: 1, mode: 0o660, gid: 6 },
      { path: 'run/fifo', type: 'fifo', mode: 0o600 },
      { path: 'empty', body: '' },
      { path: 'usr/.wh..wh..opq', body: '' },
      { path: 'usr/.wh.gone', body: '' },
    ];
    const got = await roundTrip(specs);
    assert.deepEqual(
      got.map((g) => g.entry),
      specs.map(expected),
    );
    assert.deepEqual(got[3]!.body, Buffer.alloc(70000, 0xab));
    assert.equal(got[2]!.body.toString(), 'root:x:0:0::/root:/bin/sh\n');
  });

  it('keeps binary xattr values byte-exact', async () => {
    const xattrs = {
      'security.capability': CAP_NET_RAW,
      'system.posix_acl_access': ACL,
      'system.posix_acl_default': ACL,
      'user.bytes': Buffer.from([0x00, 0xff, 0x00, 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x0a, 0x3d]),
      'user.empty': Buffer.alloc(0),
      'user.big': Buffer.alloc(65536, 0xfe),
      'trusted.overlay.opaque': 'y',
      'user.na\xefve\xff': 'x',
    };
    const [got] = await roundTrip([{ path: 'f', body: 'x', xattrs }]);
    // An empty xattr is dropped on reading, as Go's archive/tar drops it (GNU tar would set it).
    const { 'user.empty': empty, ...kept } = xattrs;
    assert.equal(empty.length, 0);
    assert.deepEqual(got!.entry.xattrs, expected({ path: 'f', xattrs: kept }).xattrs);
  });

  it('keeps large ids, nanosecond and negative mtimes', async () => {
    const specs: EntrySpec[] = [
      { path: 'a', uid: 3000000000, gid: 3000000000 },
      { path: 'b', uid: 0o7777777, gid: 0o10000000 },
      { path: 'c', mtimeSec: 1795459841, mtimeNsec: 206387818 },
      { path: 'd', mtimeSec: -315619200, mtimeNsec: 0 },
      { path: 'e', mtimeSec: -2, mtimeNsec: 500000000 },
      { path: 'f', mtimeSec: -1, mtimeNsec: 1 },
      { path: 'g', mtimeSec: 2 ** 40, mtimeNsec: 999999999 },
      { path: 'h', mtimeSec: 0o77777777777, mtimeNsec: 0 },
      { path: 'i', type: 'dir', mtimeSec: 1, mtimeNsec: 1 },
      { path: 'j', uname: 'a-very-long-user-name-over-32-bytes', gname: 'gr\xfcppe' },
    ];
    const got = await roundTrip(specs);
    assert.deepEqual(
      got.map((g) => g.entry),
      specs.map(expected),
    );
  });

  it('keeps long and non-UTF-8 paths and link names', async () => {
    const specs: EntrySpec[] = [];
    for (const len of [99, 100, 101, 155, 156, 254, 255, 256, 257, 300, 1000]) {
      const p = ('d'.repeat(40) + '/').repeat(30).slice(0, len - 2) + '/f';
      specs.push({ path: p, body: String(len) }, { path: p.slice(0, -2) + 'D', type: 'dir' });
    }
    specs.push({ path: 'x'.repeat(100) }, { path: 'y'.repeat(99), type: 'dir' }, { path: 'z'.repeat(150) });
    specs.push({ path: 'bad\xff\xfe/lone\xc3/caf\xc3\xa9', body: 'nonutf8' });
    specs.push({ path: 'l200', type: 'symlink', linkname: '/' + 't'.repeat(199) });
    specs.push({ path: 'h200', type: 'hardlink', linkname: 'y'.repeat(99) + '/' + 'z'.repeat(100) });
    specs.push({ path: 'l100', type: 'symlink', linkname: 'q'.repeat(100) });
    specs.push({ path: 'lnon', type: 'symlink', linkname: '\xff\x80/../x' });
    const got = await roundTrip(specs);
    assert.deepEqual(
      got.map((g) => g.entry),
      specs.map(expected),
    );
  });
});

describe('readTar on archives from other writers', () => {
  it('decodes GNU long names (L) and long link names (K)', async () => {
    const name = 'g'.repeat(150) + '/' + '\xff'.repeat(150);
    const target = 'h'.repeat(300);
    const tar = Buffer.concat([
      gnuLongEntry('L', name),
      rawEntry({ name: name.slice(0, 100), magic: 'gnu' }, Buffer.from('body')),
      gnuLongEntry('L', name + '/sym'),
      gnuLongEntry('K', target),
      rawEntry({ name: 'trunc', typeflag: '2', linkname: target.slice(0, 100), magic: 'gnu' }),
      rawEntry({ name: 'after', magic: 'gnu' }),
      END,
    ]);
    const got = await readAll(tar, { where: W, chunkSize: 100 });
    assert.deepEqual(
      got.map((g) => [g.entry.path, g.entry.linkname, g.body.toString()]),
      [
        [name, '', 'body'],
        [name + '/sym', target, ''],
        ['after', '', ''],
      ],
    );
  });

  it('decodes base-256 numbers as GNU tar writes them', async () => {
    const tar = Buffer.concat([
      rawEntry({
        name: 'big',
        magic: 'gnu',
        uid: { base256: 3000000000n },
        gid: { base256: 2n ** 32n - 2n },
        mtime: { base256: -100n },
      }),
      END,
    ]);
    const [got] = await readAll(tar);
    assert.deepEqual(
      [got!.entry.uid, got!.entry.gid, got!.entry.mtimeSec, got!.entry.mtimeNsec],
      [3000000000, 2 ** 32 - 2, -100, 0],
    );
  });

  it('ignores LIBARCHIVE.xattr records, as GNU tar and Go do', async () => {
    const tar = Buffer.concat([
      paxEntry([
        ['LIBARCHIVE.xattr.security.capability', CAP_NET_RAW.toString('base64')],
        ['LIBARCHIVE.xattr.user.%3D%FF', 'AP8'],
      ]),
      rawEntry({ name: 'f' }),
      END,
    ]);
    const [got] = await readAll(tar);
    assert.deepEqual(got!.entry.xattrs, new Map());
  });

  it('handles old-style typeflags and ignores the size of header-only entries', async () => {
    const tar = Buffer.concat([
      rawEntry({ name: 'olddir/', typeflag: '\0', magic: 'v7' }),
      rawEntry({ name: 'oldfile', typeflag: '\0', magic: 'v7' }, Buffer.from('abc')),
      // Go's archive/tar ignores size for these types, and so do we: no body follows.
      rawEntry({ name: 'sym', typeflag: '2', linkname: 't', size: 600 }),
      rawEntry({ name: 'mode-with-type-bits', mode: 0o100644 }),
      END,
    ]);
    const got = (await readAll(tar)).map(({ entry: e, body }) => [e.path, e.type, e.size, e.mode, body.toString()]);
    assert.deepEqual(got, [
      ['olddir', 'dir', 0, 0o644, ''],
      ['oldfile', 'file', 3, 0o644, 'abc'],
      ['sym', 'symlink', 0, 0o644, ''],
      ['mode-with-type-bits', 'file', 0, 0o644, ''],
    ]);
  });
});

describe('readTar end of archive', () => {
  it('accepts a missing end marker right after a complete entry', async () => {
    const tar = Buffer.concat([rawEntry({ name: 'a' }, Buffer.from('x'))]);
    assert.deepEqual(
      (await readAll(tar)).map((g) => g.entry.path),
      ['a'],
    );
    assert.deepEqual(await readAll(Buffer.alloc(0)), []);
  });

  it('ignores what follows the end blocks, but reads it so a hash of the stream sees it all', async () => {
    const tar = Buffer.concat([rawEntry({ name: 'a' }), END, Buffer.from('trailing junk, not a header')]);
    let pulled = 0;
    async function* source() {
      for (const c of chunked(tar, 100)) {
        pulled += c.length;
        yield c;
      }
    }
    const got: string[] = [];
    for await (const { entry } of readTar(source())) got.push(entry.path);
    assert.deepEqual(got, ['a']);
    assert.equal(pulled, tar.length);
  });

  it('stops at a single zero block too', async () => {
    const tar = Buffer.concat([rawEntry({ name: 'a' }), Buffer.alloc(512), rawEntry({ name: 'b' })]);
    assert.deepEqual(
      (await readAll(tar)).map((g) => g.entry.path),
      ['a'],
    );
  });

  it('closes the source when the consumer stops early', async () => {
    const tar = await makeTar([{ path: 'a' }, { path: 'b' }]);
    let closed = false;
    async function* source() {
      try {
        yield* chunked(tar, 512);
      } finally {
        closed = true;
      }
    }
    for await (const _ of readTar(source())) break;
    assert.equal(closed, true);
  });
});

describe('readTar bodies', () => {
  it('skips bodies the consumer does not read, wholly or partly', async () => {
    const tar = await makeTar([
      { path: 'a', body: Buffer.alloc(5000, 1) },
      { path: 'b', body: Buffer.alloc(3000, 2) },
      { path: 'c', body: 'end' },
    ]);
    const seen: [string, number][] = [];
    for await (const { entry, body } of readTar(chunked(tar, 1000))) {
      if (entry.path === 'b') {
        for await (const c of body) {
          seen.push([entry.path, c.length]);
          break;
        }
      } else if (entry.path === 'c') seen.push([entry.path, (await collect(body)).length]);
    }
    // b's body starts at 512 + 5120 + 512 = 6144: its first slice runs to the chunk end at 7000.
    assert.deepEqual(seen, [
      ['b', 856],
      ['c', 3],
    ]);
  });

  it('refuses a body read after the reader moved on', async () => {
    const tar = await makeTar([{ path: 'a', body: Buffer.alloc(5000) }, { path: 'b' }]);
    const it = readTar(chunked(tar, 1024));
    const first = (await it.next()).value!;
    const bodyIt = first.body[Symbol.asyncIterator]();
    await bodyIt.next();
    await it.next();
    await assert.rejects(bodyIt.next(), /read after the reader moved on/);
  });

  it('yields slices of the source chunks, never the whole file at once', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    const tar = await makeTar([{ path: 'big', body: big }]);
    let biggest = 0;
    let total = 0;
    for await (const { body } of readTar(chunked(tar, 65536))) {
      for await (const c of body) {
        biggest = Math.max(biggest, c.length);
        total += c.length;
      }
    }
    assert.equal(total, big.length);
    assert.ok(biggest <= 65536, `chunk of ${biggest}`);
  });

  it('reads 20,000 small entries', async () => {
    const specs: EntrySpec[] = [];
    for (let i = 0; i < 20000; i++) specs.push({ path: `d${i % 100}/f${i}`, body: `content ${i}` });
    const got = await readAll(await makeTar(specs), { chunkSize: 65536 });
    assert.equal(got.length, 20000);
    assert.equal(got[12345]!.body.toString(), 'content 12345');
  });
});

describe('readTar refuses broken and hostile archives', () => {
  const rejects = async (tar: Buffer, code: string, re: RegExp) => {
    for (const chunkSize of [undefined, 1, 100])
      await assert.rejects(readAll(tar, { where: W, chunkSize }), coded(code, re));
  };

  it('bad checksum -> BAD_TAR naming the offset', async () => {
    await rejects(
      Buffer.concat([rawEntry({ name: 'a' }, Buffer.from('x')), rawEntry({ name: 'b', checksum: 'bad' }), END]),
      'BAD_TAR',
      /bad checksum in header at offset 1024 in layer sha256:abcd/,
    );
  });

  it('truncated header, body, padding or extended header -> BAD_TAR', async () => {
    const full = Buffer.concat([rawEntry({ name: 'a' }), rawEntry({ name: 'b' }, Buffer.alloc(1000, 1)), END]);
    await rejects(full.subarray(0, 700), 'BAD_TAR', /truncated archive: it ends in the header at offset 512 in layer/);
    await rejects(full.subarray(0, 1024 + 999), 'BAD_TAR', /truncated archive: it ends in the body of "b"/);
    await rejects(full.subarray(0, 1024 + 1000), 'BAD_TAR', /truncated archive: it ends in the body of "b"/);
    const pax = Buffer.concat([paxEntry([['path', 'p'.repeat(600)]]), rawEntry({ name: 'x' })]);
    await rejects(pax.subarray(0, 1000), 'BAD_TAR', /extended header at offset 0/);
    await rejects(pax.subarray(0, 1536), 'BAD_TAR', /truncated archive: it ends in the header at offset 1536/);
    await rejects(
      Buffer.concat([gnuLongEntry('L', 'n'.repeat(200)), END]),
      'BAD_TAR',
      /followed by the end of the archive/,
    );
  });

  it('a bad PAX record -> BAD_TAR', async () => {
    const broken = rawEntry({ name: 'PaxHeaders/x', typeflag: 'x' }, Buffer.from('99 path=x\n'));
    await rejects(Buffer.concat([broken, rawEntry({ name: 'x' }), END]), 'BAD_TAR', /bad PAX record/);
    await rejects(
      Buffer.concat([paxEntry([['size', 'lots']]), rawEntry({ name: 'x' }), END]),
      'BAD_TAR',
      /bad PAX size value "lots"/,
    );
  });

  it('unsafe paths and hardlink targets -> UNSAFE_PATH', async () => {
    for (const name of ['../x', '/etc/passwd', 'a/../../b', './../../etc/shadow']) {
      await rejects(Buffer.concat([rawEntry({ name }), END]), 'UNSAFE_PATH', new RegExp(`unsafe path ".*" in ${W}`));
    }
    await rejects(
      Buffer.concat([
        gnuLongEntry('L', 'a/'.repeat(60) + '../'.repeat(70) + 'etc/passwd'),
        rawEntry({ name: 'short' }),
        END,
      ]),
      'UNSAFE_PATH',
      /unsafe path/,
    );
    await rejects(
      Buffer.concat([paxEntry([['path', '/abs']]), rawEntry({ name: 'fine' }), END]),
      'UNSAFE_PATH',
      /unsafe path "\/abs"/,
    );
    await rejects(
      Buffer.concat([paxEntry([['path', 'nul\0byte']]), rawEntry({ name: 'fine' }), END]),
      'UNSAFE_PATH',
      /nul\\0byte/,
    );
    await rejects(
      Buffer.concat([rawEntry({ name: 'h', typeflag: '1', linkname: '../x' }), END]),
      'UNSAFE_PATH',
      /unsafe path "..\/x" in .* \(hardlink target of "h"\)/,
    );
    await rejects(
      Buffer.concat([rawEntry({ name: 'h', typeflag: '1', linkname: '/etc/shadow' }), END]),
      'UNSAFE_PATH',
      /hardlink target/,
    );
    await rejects(
      Buffer.concat([rawEntry({ name: 'h', typeflag: '1', linkname: '' }), END]),
      'BAD_TAR',
      /hardlink "h" has no target/,
    );
  });

  it('sparse files and unknown types -> UNSUPPORTED naming the path', async () => {
    await rejects(
      Buffer.concat([rawEntry({ name: 'disk.img', typeflag: 'S', magic: 'gnu' }), END]),
      'UNSUPPORTED',
      /sparse file "disk.img" in layer/,
    );
    const pax1 = paxEntry([
      ['GNU.sparse.major', '1'],
      ['GNU.sparse.minor', '0'],
      ['GNU.sparse.name', 'var/disk.img'],
      ['GNU.sparse.realsize', '1000000'],
    ]);
    await rejects(
      Buffer.concat([pax1, rawEntry({ name: './GNUSparseFile.0/disk.img' }, Buffer.alloc(512)), END]),
      'UNSUPPORTED',
      /sparse file "var\/disk.img"/,
    );
    const pax0 = paxEntry([
      ['GNU.sparse.size', '1000000'],
      ['GNU.sparse.numblocks', '1'],
      ['GNU.sparse.offset', '0'],
      ['GNU.sparse.numbytes', '1'],
    ]);
    await rejects(
      Buffer.concat([pax0, rawEntry({ name: 'old.img' }, Buffer.alloc(1)), END]),
      'UNSUPPORTED',
      /sparse file "old.img"/,
    );
    await rejects(
      Buffer.concat([rawEntry({ name: 'vol', typeflag: 'V' }), END]),
      'UNSUPPORTED',
      /entry "vol" at offset 0 in layer .* has unsupported type 'V'/,
    );
  });
});
