import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Inode, packInode } from '../../src/graph/packed-inode.js';

const plain = (over: Partial<Inode> = {}): Inode => ({
  type: 'file',
  mode: 0o4755,
  uid: 1000,
  gid: 100,
  uname: 'me',
  gname: 'users',
  mtimeSec: -5,
  mtimeNsec: 999_999_999,
  size: 2 ** 40,
  linkname: '',
  devmajor: 0,
  devminor: 0,
  xattrs: null,
  content: 7,
  linked: false,
  ...over,
});
const fields = (i: Inode) => ({
  type: i.type,
  mode: i.mode,
  uid: i.uid,
  gid: i.gid,
  uname: i.uname,
  gname: i.gname,
  mtimeSec: i.mtimeSec,
  mtimeNsec: i.mtimeNsec,
  size: i.size,
  linkname: i.linkname,
  devmajor: i.devmajor,
  devminor: i.devminor,
  xattrs: i.xattrs,
  content: i.content,
  linked: i.linked,
});

describe('packInode', () => {
  it('keeps every field of every type', () => {
    const xattrs = new Map([['user.a', Buffer.from('1')]]);
    for (const over of [
      {},
      { type: 'dir', mode: 0o1777, size: 0, content: null },
      { type: 'symlink', linkname: 'usr/lib', content: null, size: 0 },
      { type: 'chardev', devmajor: 4095, devminor: 2 ** 20, content: null, size: 0 },
      { type: 'blockdev', devmajor: 8, devminor: 1, content: null, size: 0 },
      { type: 'fifo', mode: 0, content: null, size: 0, xattrs },
      { linked: true, mode: 0o7777 },
    ] as Partial<Inode>[]) {
      const p = plain(over);
      assert.deepEqual(fields(packInode(p)), fields(p));
    }
  });

  it('writes each field without touching the others, nor another inode sharing its defaults', () => {
    const a = packInode(plain());
    const b = packInode(plain());
    a.linked = true;
    a.mode = 0o600;
    a.uname = 'root';
    a.xattrs = new Map([['user.x', Buffer.from('y')]]);
    a.xattrs.delete('user.x');
    assert.deepEqual(fields(a), fields(plain({ linked: true, mode: 0o600, uname: 'root', xattrs: new Map() })));
    assert.deepEqual(fields(b), fields(plain()));
    a.linked = false;
    a.xattrs = null;
    assert.equal(a.linked, false);
    assert.equal(a.mode, 0o600);
    assert.equal(a.xattrs, null);
  });
});
