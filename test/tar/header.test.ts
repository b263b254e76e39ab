import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { newEntry } from '../../src/tar/entry.js';
import { decodeHeader } from '../../src/tar/header.js';
import { encodeEntryHeader, encodeRawHeader, paxHeaderName, splitUstarName } from '../../src/tar/header-encode.js';
import { parsePax } from '../../src/tar/pax.js';
import { rawHeader } from '../helpers/make-tar.js';

const W = 'test archive';
const decode = (block: Buffer, offset = 0) => decodeHeader(block, 0, offset, W);
const badTar = (re: RegExp) => (e: unknown) =>
  e instanceof RechunkerError && e.code === 'BAD_TAR' && re.test(e.message);

describe('decodeHeader', () => {
  it('reads a ustar header and joins the prefix', () => {
    const h = decode(
      rawHeader({
        name: 'c.txt',
        prefix: 'a/b',
        mode: 0o104755,
        uid: 1000,
        gid: 100,
        size: 12345,
        mtime: 1700000000,
        uname: 'u',
        gname: 'g',
      }),
    );
    assert.deepEqual(h, {
      kind: 'file',
      typeflag: 0x30,
      name: 'a/b/c.txt',
      linkname: '',
      mode: 0o104755,
      uid: 1000,
      gid: 100,
      size: 12345,
      mtime: 1700000000,
      uname: 'u',
      gname: 'g',
      devmajor: 0,
      devminor: 0,
    });
  });

  it('maps every typeflag', () => {
    const kinds: Record<string, string> = {
      '0': 'file',
      '\0': 'file',
      '7': 'file',
      '1': 'hardlink',
      '2': 'symlink',
      '3': 'chardev',
      '4': 'blockdev',
      '5': 'dir',
      '6': 'fifo',
      x: 'pax',
      g: 'pax-global',
      L: 'gnu-long-name',
      K: 'gnu-long-link',
      S: 'gnu-sparse',
      V: 'unknown',
      D: 'unknown',
      A: 'unknown',
    };
    for (const [flag, kind] of Object.entries(kinds))
      assert.equal(decode(rawHeader({ name: 'n', typeflag: flag })).kind, kind, flag);
  });

  it('reads device numbers only for devices', () => {
    assert.deepEqual(pick(decode(rawHeader({ name: 'null', typeflag: '3', devmajor: 1, devminor: 3 }))), [1, 3]);
    assert.deepEqual(
      pick(decode(rawHeader({ name: 'sda', typeflag: '4', devmajor: 8, devminor: 0o7777777 }))),
      [8, 0o7777777],
    );
    // Garbage in the fields of a non-device is not an error.
    assert.deepEqual(pick(decode(rawHeader({ name: 'f', devmajor: { raw: 'zz' }, devminor: { raw: '!!' } }))), [0, 0]);
    function pick(h: { devmajor: number; devminor: number }) {
      return [h.devmajor, h.devminor];
    }
  });

  it('reads GNU headers without taking their atime area for a prefix', () => {
    const h = decode(
      rawHeader({
        name: 'file',
        magic: 'gnu',
        uname: 'root',
        poke: { offset: 345, bytes: Buffer.from('14523456701\0') },
      }),
    );
    assert.equal(h.name, 'file');
    assert.equal(h.uname, 'root');
  });

  it('reads v7 headers (no magic)', () => {
    const h = decode(rawHeader({ name: 'old/dir/', typeflag: '\0', magic: 'v7' }));
    assert.equal(h.name, 'old/dir/');
    assert.equal(h.kind, 'file'); // the reader turns a '\0' entry ending in '/' into a directory
  });

  it('accepts octal fields padded with spaces or NULs, as old writers wrote them', () => {
    const h = decode(
      rawHeader({
        name: 'n',
        mode: { raw: '   644 \0' },
        uid: { raw: '0001750 ' },
        gid: { raw: '\0\0\0\0\0\0\0\0' },
        size: { raw: '         12 ' },
      }),
    );
    assert.deepEqual([h.mode, h.uid, h.gid, h.size], [0o644, 0o1750, 0, 0o12]);
    assert.throws(
      () => decode(rawHeader({ name: 'n', uid: { raw: '00012a4\0' } })),
      badTar(/uid field is not an octal number in header at offset 0/),
    );
    assert.throws(() => decode(rawHeader({ name: 'n', size: { raw: '0001 234\0' } })), badTar(/size/));
  });

  it('reads GNU base-256 numbers, large and negative', () => {
    const h = decode(
      rawHeader({
        name: 'n',
        uid: { base256: 3000000000n },
        gid: { base256: 4294967294n },
        size: { base256: 17179869184n },
        mtime: { base256: -315619200n },
      }),
    );
    assert.deepEqual([h.uid, h.gid, h.size, h.mtime], [3000000000, 4294967294, 17179869184, -315619200]);
    assert.equal(decode(rawHeader({ name: 'n', mtime: { base256: -1n } })).mtime, -1);
    assert.equal(decode(rawHeader({ name: 'n', mtime: { base256: 2n ** 40n } })).mtime, 2 ** 40);
    assert.throws(
      () => decode(rawHeader({ name: 'n', size: { base256: 2n ** 60n } })),
      badTar(/size value 1152921504606846976 out of range/),
    );
    assert.throws(() => decode(rawHeader({ name: 'n', uid: { base256: -5n } })), badTar(/negative uid/));
  });

  it('accepts signed and unsigned checksums and names the offset of a bad one', () => {
    const high = { name: 'caf\xc3\xa9\xff', uname: '\xe9' };
    assert.equal(decode(rawHeader({ ...high, checksum: 'signed' })).name, 'caf\xc3\xa9\xff');
    assert.equal(decode(rawHeader({ ...high, checksum: 'unsigned' })).name, 'caf\xc3\xa9\xff');
    assert.throws(
      () => decode(rawHeader({ ...high, checksum: 'bad' }), 1536),
      badTar(/bad checksum in header at offset 1536 in test archive/),
    );
    const garbage = Buffer.alloc(512, 'garbage!');
    assert.throws(() => decode(garbage), badTar(/bad checksum/));
  });

  it('refuses an unknown magic', () => {
    const b = rawHeader({ name: 'n', poke: { offset: 257, bytes: Buffer.from('ustar\x0100') } });
    assert.throws(() => decode(b), badTar(/unknown magic/));
  });

  it('reads the fields at an offset inside a larger buffer', () => {
    const big = Buffer.concat([Buffer.alloc(100, 7), rawHeader({ name: 'inside', size: 5 }), Buffer.alloc(50, 9)]);
    const h = decodeHeader(big, 100, 4096, W);
    assert.deepEqual([h.name, h.size], ['inside', 5]);
  });
});

describe('encodeRawHeader', () => {
  it('writes GNU-style fields: zero-padded octal + NUL, checksum as 6 digits + NUL + space', () => {
    const b = encodeRawHeader({
      name: 'a',
      typeflag: '0',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 3,
      mtime: 1700000000,
      devmajor: 0,
      devminor: 0,
    });
    assert.equal(b.toString('latin1', 100, 108), '0000644\0');
    assert.equal(b.toString('latin1', 124, 136), '00000000003\0');
    assert.equal(b.toString('latin1', 136, 148), '14524770400\0');
    assert.match(b.toString('latin1', 148, 156), /^[0-7]{6}\0 $/);
    assert.equal(b.toString('latin1', 257, 265), 'ustar\x0000');
    assert.equal(b.toString('latin1', 329, 345), '0000000\x000000000\0');
    assert.deepEqual(decode(b).size, 3);
  });

  it('refuses values that do not fit', () => {
    assert.throws(() =>
      encodeRawHeader({ name: 'x'.repeat(101), typeflag: '0', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 }),
    );
    assert.throws(() =>
      encodeRawHeader({ name: 'x', typeflag: '0', mode: 0, uid: 0o10000000, gid: 0, size: 0, mtime: 0 }),
    );
    assert.throws(() => encodeRawHeader({ name: 'x', typeflag: '0', mode: 0, uid: 0, gid: 0, size: 0, mtime: -1 }));
  });
});

describe('encodeEntryHeader', () => {
  it('writes a plain entry as one ustar block', () => {
    const b = encodeEntryHeader(newEntry('usr/bin/ping', 'file', { mode: 0o4755, uid: 0, size: 10, mtimeSec: 1 }));
    assert.equal(b.length, 512);
    const h = decode(b);
    assert.deepEqual([h.name, h.mode, h.size, h.typeflag], ['usr/bin/ping', 0o4755, 10, 0x30]);
  });

  it('writes directories with a trailing slash, the root as "./"', () => {
    assert.equal(decode(encodeEntryHeader(newEntry('usr/lib', 'dir'))).name, 'usr/lib/');
    assert.equal(decode(encodeEntryHeader(newEntry('.', 'dir'))).name, './');
  });

  it('writes device numbers for devices only', () => {
    const h = decode(encodeEntryHeader(newEntry('dev/sda', 'blockdev', { devmajor: 8, devminor: 1 })));
    assert.deepEqual([h.kind, h.devmajor, h.devminor], ['blockdev', 8, 1]);
    const f = encodeEntryHeader(newEntry('f', 'file', { devmajor: 8, devminor: 1 }));
    assert.equal(f.toString('latin1', 329, 345), '0000000\x000000000\0');
  });

  it('moves what ustar cannot hold to a PAX header and zeroes the ustar field, as GNU tar does', () => {
    const e = newEntry('a/' + 'n'.repeat(120), 'file', {
      uid: 3000000000,
      gid: 0o7777777,
      size: 0o100000000000,
      mtimeSec: -315619200,
      mtimeNsec: 5,
      uname: 'u'.repeat(40),
      xattrs: new Map([
        ['user.b', Buffer.from([0xff])],
        ['security.capability', Buffer.from([1, 0])],
      ]),
    });
    const b = encodeEntryHeader(e);
    const pax = decode(b);
    assert.deepEqual(
      {
        name: pax.name,
        kind: pax.kind,
        mode: pax.mode,
        uid: pax.uid,
        gid: pax.gid,
        mtime: pax.mtime,
        uname: pax.uname,
      },
      { name: 'a/PaxHeaders/' + 'n'.repeat(87), kind: 'pax', mode: 0o644, uid: 0, gid: 0, mtime: 0, uname: '' },
    );
    assert.equal(b.toString('latin1', 329, 345), '\0'.repeat(16), 'GNU leaves device fields of PAX headers empty');
    const records = parsePax(b.subarray(512, 512 + pax.size), W);
    assert.deepEqual(
      [...records].map(([k, v]) => [k, k.startsWith('SCHILY.xattr') ? v.toString('hex') : v.toString('latin1')]),
      [
        ['path', 'a/' + 'n'.repeat(120)],
        ['uid', '3000000000'],
        ['size', '8589934592'],
        ['mtime', '-315619199.999999995'],
        ['uname', 'u'.repeat(40)],
        ['SCHILY.xattr.security.capability', '0100'],
        ['SCHILY.xattr.user.b', 'ff'],
      ],
    );
    const ustar = decode(b.subarray(b.length - 512));
    assert.deepEqual(
      { name: ustar.name, uid: ustar.uid, gid: ustar.gid, size: ustar.size, mtime: ustar.mtime, uname: ustar.uname },
      {
        name: ('a/' + 'n'.repeat(120)).slice(0, 100),
        uid: 0,
        gid: 0o7777777,
        size: 0,
        mtime: 0,
        uname: 'u'.repeat(31),
      },
    );
  });

  it('uses the ustar prefix before PAX for long paths', () => {
    const path = 'p'.repeat(150) + '/' + 'n'.repeat(99);
    const b = encodeEntryHeader(newEntry(path, 'file'));
    assert.equal(b.length, 512);
    assert.equal(b.toString('latin1', 345, 495), 'p'.repeat(150));
    assert.equal(decode(b).name, path);
  });

  it('puts a linkname over 100 bytes in PAX, before the path', () => {
    const b = encodeEntryHeader(newEntry('x/' + 'l'.repeat(300), 'symlink', { linkname: '/t'.repeat(100) }));
    const recs = parsePax(b.subarray(512, 512 + decode(b).size), W);
    assert.deepEqual([...recs.keys()], ['linkpath', 'path']);
    assert.equal(recs.get('linkpath')!.toString(), '/t'.repeat(100));
  });
});

describe('name helpers', () => {
  it('splits like GNU tar', () => {
    assert.deepEqual(splitUstarName('a'.repeat(155) + '/' + 'b'.repeat(100)), ['a'.repeat(155), 'b'.repeat(100)]);
    assert.deepEqual(splitUstarName('a/b/' + 'c'.repeat(100)), ['a/b', 'c'.repeat(100)]);
    assert.deepEqual(splitUstarName('a/' + 'd'.repeat(99) + '/'), ['a', 'd'.repeat(99) + '/']);
    assert.deepEqual(splitUstarName('a'.repeat(120) + '/b/c'), ['a'.repeat(120) + '/b', 'c']);
    assert.equal(splitUstarName('a'.repeat(156) + '/b'), undefined, 'prefix over 155');
    assert.equal(splitUstarName('a/' + 'b'.repeat(101)), undefined, 'name over 100');
    assert.equal(splitUstarName('a'.repeat(101)), undefined, 'no slash');
    assert.equal(splitUstarName('a'.repeat(155) + '/' + 'b'.repeat(101)), undefined);
  });

  it('names PAX headers %d/PaxHeaders/%f', () => {
    assert.equal(paxHeaderName('f'), './PaxHeaders/f');
    assert.equal(paxHeaderName('d/f'), 'd/PaxHeaders/f');
    assert.equal(paxHeaderName('.'), './PaxHeaders/.');
    assert.equal(paxHeaderName('x'.repeat(200) + '/f').length, 100);
  });
});
