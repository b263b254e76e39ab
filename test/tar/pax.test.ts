import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { formatPax, formatPaxRecord, formatPaxTime, interpretPax, parsePax, parsePaxTime } from '../../src/tar/pax.js';
import { paxRecords } from '../helpers/make-tar.js';

const W = 'test archive';
const isBadTar = (e: unknown) => e instanceof RechunkerError && e.code === 'BAD_TAR' && e.message.includes(W);

describe('PAX records', () => {
  it('formats the length so that it counts its own digits', () => {
    // rest = ' ' + key + '=' + value + '\n': lengths around the 1 -> 2 -> 3 digit boundaries.
    for (let n = 0; n < 1100; n++) {
      const rec = formatPaxRecord('k', 'v'.repeat(n));
      assert.equal(rec.toString('latin1'), `${rec.length} k=${'v'.repeat(n)}\n`);
      assert.deepEqual(rec, paxRecords([['k', 'v'.repeat(n)]]));
    }
    assert.equal(formatPaxRecord('mtime', '1795459841.206387818').toString(), '30 mtime=1795459841.206387818\n');
  });

  it('keeps binary values byte for byte, including NUL, 0xff, "=" and newlines', () => {
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    const weird = Buffer.from([0x00, 0xff, 0x3d, 0x0a, 0xc3, 0x28, 0x80, 0x20]);
    const body = formatPax([
      ['SCHILY.xattr.security.capability', cap],
      ['SCHILY.xattr.user.\xff=odd', weird],
      ['path', 'caf\xc3\xa9/\xff'],
    ]);
    const recs = parsePax(body, W);
    assert.deepEqual([...recs.keys()], ['SCHILY.xattr.security.capability', 'SCHILY.xattr.user.\xff', 'path']);
    assert.deepEqual(recs.get('SCHILY.xattr.security.capability'), cap);
    assert.deepEqual(recs.get('path'), Buffer.from('caf\xc3\xa9/\xff', 'latin1'));
    // The key ends at the first '=': the rest of a name with '=' would be part of the value.
    assert.deepEqual(recs.get('SCHILY.xattr.user.\xff'), Buffer.concat([Buffer.from('odd='), weird]));
  });

  it('lets a repeated key keep its last value and ignores trailing NUL padding', () => {
    const body = Buffer.concat([
      paxRecords([
        ['uid', '1'],
        ['gid', '2'],
        ['uid', '3'],
      ]),
      Buffer.alloc(20),
    ]);
    const recs = parsePax(body, W);
    assert.deepEqual(
      [...recs].map(([k, v]) => [k, v.toString()]),
      [
        ['gid', '2'],
        ['uid', '3'],
      ],
    );
  });

  it('refuses records whose length field is wrong', () => {
    for (const bad of [
      '99 path=x\n',
      '3 path=x\n',
      '9 path=xy\n',
      'ab path=x\n',
      '12 path=x\n\n',
      '10 path=x',
      '8 pathx\n',
      '6 =xy\n',
      ' 9 path=x\n',
      '9',
      '10 path=x\0',
      '1000000000000000000 a=b\n',
    ]) {
      assert.throws(() => parsePax(Buffer.from(bad), W), isBadTar, JSON.stringify(bad));
    }
  });

  it('refuses an empty value for a key GNU tar and Go read differently', () => {
    for (const key of ['path', 'linkpath', 'uid', 'gid', 'size', 'mtime', 'uname', 'atime']) {
      assert.throws(() => interpretPax(parsePax(paxRecords([[key, '']]), W), W), isBadTar, key);
    }
    assert.deepEqual(interpretPax(parsePax(paxRecords([['comment', '']]), W), W).xattrs, new Map());
  });
});

describe('PAX interpretation', () => {
  it('reads the known keys exactly', () => {
    const p = interpretPax(
      parsePax(
        paxRecords([
          ['path', 'a/b'],
          ['linkpath', '/abs/target'],
          ['size', '17179869184'],
          ['uid', '3000000000'],
          ['gid', '4294967294'],
          ['uname', 'us\xe9r'],
          ['gname', 'grp'],
          ['mtime', '1700000000.000000001'],
          ['atime', 'garbage is fine here: ignored'],
          ['SCHILY.devmajor', '4095'],
          ['SCHILY.devminor', '1048575'],
          ['SCHILY.xattr.user.empty', ''],
          ['hdrcharset', 'BINARY'],
          ['comment', 'x'],
        ]),
        W,
      ),
      W,
    );
    assert.deepEqual(
      { ...p, xattrs: [...p.xattrs] },
      {
        path: 'a/b',
        linkpath: '/abs/target',
        size: 17179869184,
        uid: 3000000000,
        gid: 4294967294,
        uname: 'us\xe9r',
        gname: 'grp',
        mtime: { sec: 1700000000, nsec: 1 },
        xattrs: [],
        sparse: false,
      },
    );
  });

  it('ignores SCHILY.devmajor/devminor, LIBARCHIVE.xattr and empty xattrs, as GNU tar and Go do', () => {
    const acl = Buffer.from('0200000001000600ffffffff04000400ffffffff10000600ffffffff20000400ffffffff', 'hex');
    const p = interpretPax(
      parsePax(
        paxRecords([
          ['LIBARCHIVE.xattr.system.posix_acl_access', acl.toString('base64')],
          ['LIBARCHIVE.xattr.user.a%3Db%25c%FF', Buffer.from([0, 255, 1]).toString('base64').replace(/=+$/, '')],
          ['LIBARCHIVE.xattr.user.both', Buffer.from('from libarchive').toString('base64')],
          ['SCHILY.xattr.user.both', 'from schily'],
        ]),
        W,
      ),
      W,
    );
    assert.deepEqual([...p.xattrs], [['user.both', Buffer.from('from schily')]]);
  });

  it('flags GNU sparse records', () => {
    const p = interpretPax(
      parsePax(
        paxRecords([
          ['GNU.sparse.major', '1'],
          ['GNU.sparse.name', 'big.img'],
        ]),
        W,
      ),
      W,
    );
    assert.equal(p.sparse, true);
    assert.equal(p.sparseName, 'big.img');
  });

  it('refuses malformed numbers', () => {
    for (const [k, v] of [
      ['uid', '-1'],
      ['size', '1e9'],
      ['gid', '0x10'],
      ['mtime', '1.2.3'],
      ['mtime', '--1'],
      ['size', '99999999999999999999'],
    ]) {
      assert.throws(() => interpretPax(parsePax(paxRecords([[k!, v!]]), W), W), isBadTar, `${k}=${v}`);
    }
  });
});

describe('PAX times', () => {
  it('parses without float rounding, floor-based for negative times', () => {
    const cases: [string, number, number][] = [
      ['0', 0, 0],
      ['1700000000', 1700000000, 0],
      ['1700000000.5', 1700000000, 500000000],
      ['1795459841.206387818', 1795459841, 206387818],
      ['1.000000001', 1, 1],
      ['1.1234567899', 1, 123456789],
      ['1.', 1, 0],
      ['-3', -3, 0],
      ['-0', 0, 0],
      ['-1.5', -2, 500000000],
      ['-0.25', -1, 750000000],
      ['-315619199.876543211', -315619200, 123456789],
      ['9007199254740991.999999999', 9007199254740991, 999999999],
    ];
    for (const [text, sec, nsec] of cases) assert.deepEqual(parsePaxTime(text), { sec, nsec }, text);
    for (const bad of ['', 'abc', '1e5', '+1', '.5', '1.5x', '9007199254740993'])
      assert.equal(parsePaxTime(bad), undefined, bad);
  });

  it('formats as GNU tar does and round-trips', () => {
    assert.equal(formatPaxTime(1795459841, 206387818), '1795459841.206387818');
    assert.equal(formatPaxTime(1700000000, 500000000), '1700000000.5');
    assert.equal(formatPaxTime(1700000000, 0), '1700000000');
    assert.equal(formatPaxTime(-2, 500000000), '-1.5');
    assert.equal(formatPaxTime(-1, 750000000), '-0.25');
    assert.equal(formatPaxTime(-5, 0), '-5');
    for (const sec of [-1e10, -86400, -2, -1, 0, 1, 2 ** 33, 2 ** 40]) {
      for (const nsec of [0, 1, 10, 500000000, 999999999, 123456789]) {
        assert.deepEqual(parsePaxTime(formatPaxTime(sec, nsec)), { sec, nsec }, `${sec} ${nsec}`);
      }
    }
  });
});
