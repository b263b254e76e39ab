/**
 * Cross-checks against GNU tar (/usr/bin/tar), the reference reader and writer of PAX archives
 * with xattrs: (a) what GNU tar writes we read back exactly, (b) what we write GNU tar extracts
 * exactly, (c) for entries both can write the same way, our bytes equal GNU tar's.
 * Needs root (devices, foreign owners, security.* and trusted.* xattrs), setfattr and setcap.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newEntry, type EntryType, type TarEntry } from '../../src/tar/entry.js';
import { writeTar, type TarWriteItem } from '../../src/tar/writer.js';
import { RechunkerError } from '../../src/errors.js';
import { collect, readAll } from '../helpers/make-tar.js';

const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');
// user::rw- user:1000:rw- group::r-- mask::rw- other::r--
const ACL = Buffer.from(
  '0200000001000600ffffffff02000600e803000004000400ffffffff10000600ffffffff20000400ffffffff',
  'hex',
);
const XATTR_FLAGS = ['--xattrs', '--xattrs-include=*'];

const missing = ['/usr/bin/tar', '/usr/bin/setfattr', '/usr/bin/getfattr', '/usr/sbin/setcap'].filter(
  (f) => !fs.existsSync(f),
);
const skip = process.getuid?.() !== 0 ? 'needs root' : missing.length ? `missing ${missing.join(', ')}` : false;

const run = (cmd: string, args: string[], opts: { cwd?: string } = {}) =>
  execFileSync(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
const B = (s: string) => Buffer.from(s, 'latin1'); // a byte-string path for fs calls
const under = (root: string, rel: string) => Buffer.concat([B(root + '/'), B(rel)]);
const ascii = (root: string, rel: string) => `${root}/${rel}`; // for command arguments

/** All xattrs of a file, from getfattr: the kernel's view, independent of any tar code. */
function xattrsOf(file: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  // Command arguments are strings, encoded as UTF-8: a name that is not UTF-8 goes through printf.
  const octal = [...file].map((b) => '\\' + b.toString(8).padStart(3, '0')).join('');
  const text = run('sh', ['-c', `getfattr -h -d -m - -e hex --absolute-names -- "$(printf '${octal}')"`]).toString(
    'latin1',
  );
  for (const line of text.split('\n')) {
    const m = /^([^#=][^=]*)=0x([0-9a-f]*)$/.exec(line);
    if (m) out.set(m[1]!, Buffer.from(m[2]!, 'hex'));
  }
  return out;
}

function typeOf(st: fs.BigIntStats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  if (st.isFIFO()) return 'fifo';
  throw new Error('socket?');
}

/** The TarEntry a file on disk should have (a hardlink is described by the caller). */
function entryOnDisk(root: string, rel: string): TarEntry {
  const file = under(root, rel);
  const st = fs.lstatSync(file, { bigint: true });
  const type = typeOf(st);
  const ns = st.mtimeNs;
  const sec = ns >= 0n ? ns / 1000000000n : -((-ns + 999999999n) / 1000000000n);
  const rdev = st.rdev;
  const isDev = type === 'chardev' || type === 'blockdev';
  return newEntry(rel, type, {
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtimeSec: Number(sec),
    mtimeNsec: Number(ns - sec * 1000000000n),
    size: type === 'file' ? Number(st.size) : 0,
    linkname: type === 'symlink' ? fs.readlinkSync(file, { encoding: 'buffer' }).toString('latin1') : '',
    devmajor: isDev ? Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)) : 0,
    devminor: isDev ? Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)) : 0,
    xattrs: type === 'symlink' ? new Map() : xattrsOf(file),
  });
}

const LONG_DIR = 'd/' + 'L'.repeat(150);
const LONG_FILE = LONG_DIR + '/' + 'n'.repeat(150);
const NON_UTF8 = 'd/\xff\xfe-lone\xc3-name';
const LONG_TARGET = '/abs/' + 't'.repeat(200);

/** A tree with every kind of entry and metadata that matters. Returns the paths in tar order. */
function buildTree(root: string): string[] {
  const mk = (rel: string, body = '') => fs.writeFileSync(under(root, rel), body);
  fs.mkdirSync(under(root, 'd'));
  fs.mkdirSync(under(root, LONG_DIR));
  mk('d/ping', 'ping binary');
  fs.chmodSync(under(root, 'd/ping'), 0o4755);
  run('setcap', ['cap_net_raw+ep', ascii(root, 'd/ping')]);
  fs.linkSync(under(root, 'd/ping'), under(root, 'd/ping-hard'));
  mk('d/acl', 'acl');
  run('setfattr', ['-n', 'system.posix_acl_access', '-v', '0x' + ACL.toString('hex'), ascii(root, 'd/acl')]);
  run('setfattr', ['-n', 'user.bin', '-v', '0x00ff80c328', ascii(root, 'd/acl')]);
  run('setfattr', ['-n', 'user.empty', ascii(root, 'd/acl')]);
  run('setfattr', ['-n', 'trusted.t', '-v', '0x00', ascii(root, 'd/acl')]);
  mk('d/big-ids', 'x');
  fs.chownSync(under(root, 'd/big-ids'), 3000000000, 3000000001);
  mk('d/ns', 'ns');
  mk('d/old', 'old');
  mk(LONG_FILE, 'long');
  mk(NON_UTF8, 'bytes');
  fs.symlinkSync(B(LONG_TARGET), under(root, 'd/long-link'));
  fs.symlinkSync(B('../x'), under(root, 'd/rel-link'));
  run('mkfifo', [ascii(root, 'd/fifo')]);
  run('mknod', [ascii(root, 'd/null'), 'c', '1', '3']);
  run('mknod', [ascii(root, 'd/sda1'), 'b', '8', '1']);
  fs.chownSync(under(root, 'd/sda1'), 0, 6);
  run('touch', ['-h', '-d', '@1795459841.206387818', ascii(root, 'd/ns')]);
  run('touch', ['-h', '-d', '@-315619199.876543211', ascii(root, 'd/old')]);
  run('touch', ['-h', '-d', '@1600000000.5', ascii(root, 'd/long-link')]);
  fs.chmodSync(under(root, 'd'), 0o1750);
  fs.chownSync(under(root, 'd'), 1000, 1000);
  run('touch', ['-h', '-d', '@1700000000.000000001', ascii(root, LONG_DIR)]);
  run('touch', ['-h', '-d', '@1700000000.123', ascii(root, 'd')]);
  // Byte order, as our layers are written: a directory's children right after it.
  return [
    'd',
    LONG_FILE,
    ...fs.readdirSync(under(root, 'd'), { encoding: 'buffer' }).map((n) => 'd/' + n.toString('latin1')),
  ].sort();
}

describe('GNU tar cross-check', { skip }, () => {
  let tmp: string;
  let src: string;
  let order: string[];
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rechunker-gnutar-'));
    src = path.join(tmp, 'src');
    fs.mkdirSync(src);
    order = buildTree(src);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Compare what we read to the disk; hardlinks must name a path with the same inode. */
  function checkAgainstDisk(got: { entry: TarEntry; body: Buffer }[], opts: { xattrs: boolean; ns: boolean }) {
    assert.deepEqual(got.map((g) => g.entry.path).sort(), [...order].sort());
    for (const { entry, body } of got) {
      const want = entryOnDisk(src, entry.path);
      if (entry.type === 'hardlink') {
        const ino = (p: string) => fs.lstatSync(under(src, p)).ino;
        assert.equal(ino(entry.linkname), ino(entry.path), entry.path);
        // A link entry carries no xattrs: they belong to the inode, stored with the first path.
        Object.assign(want, { type: 'hardlink', linkname: entry.linkname, size: 0, xattrs: new Map() });
      } else if (want.type === 'file') {
        assert.deepEqual(body, fs.readFileSync(under(src, entry.path)), entry.path);
      }
      if (!opts.xattrs) want.xattrs = new Map();
      // GNU tar writes an empty xattr as an empty SCHILY.xattr record; Go drops it, and so do we.
      for (const [k, v] of want.xattrs) if (v.length === 0) want.xattrs.delete(k);
      if (!opts.ns) want.mtimeNsec = 0;
      assert.deepEqual(entry, want, entry.path);
    }
  }

  it('(a) reads what GNU tar --format=pax --xattrs --acls writes, xattr bytes exact', async () => {
    const tar = run('tar', [
      '--format=pax',
      ...XATTR_FLAGS,
      '--acls',
      '--numeric-owner',
      '--sort=name',
      '-C',
      src,
      '-cf',
      '-',
      'd',
    ]);
    const got = await readAll(tar, { where: 'gnu pax', chunkSize: 10000 });
    checkAgainstDisk(got, { xattrs: true, ns: true });
    const byPath = new Map(got.map((g) => [g.entry.path, g.entry]));
    assert.deepEqual(byPath.get('d/ping')!.xattrs.get('security.capability'), CAP_NET_RAW);
    assert.deepEqual(byPath.get('d/acl')!.xattrs.get('system.posix_acl_access'), ACL);
    assert.deepEqual(byPath.get('d/acl')!.xattrs.get('user.bin'), Buffer.from('00ff80c328', 'hex'));
  });

  it('(a) reads what GNU tar --format=gnu writes: long names (L/K) and base-256 ids', async () => {
    const tar = run('tar', ['--format=gnu', '--numeric-owner', '--sort=name', '-C', src, '-cf', '-', 'd']);
    assert.ok(tar.includes('././@LongLink'), 'GNU long-name records are used');
    checkAgainstDisk(await readAll(tar, { where: 'gnu', chunkSize: 777 }), { xattrs: false, ns: false });
  });

  it('(b) GNU tar extracts what we write: modes, owners, ns mtimes, links, devices, xattrs', async () => {
    const items: TarWriteItem[] = order.map((rel) => {
      const entry = entryOnDisk(src, rel);
      if (rel === 'd/ping-hard')
        return { entry: { ...entry, type: 'hardlink', linkname: 'd/ping', size: 0, xattrs: new Map() } };
      return { entry, body: entry.type === 'file' ? fs.readFileSync(under(src, rel)) : undefined };
    });
    const tar = await collect(writeTar(items));
    const archive = path.join(tmp, 'ours.tar');
    fs.writeFileSync(archive, tar);
    run('tar', ['-tvf', archive]); // lists without complaint
    const out = path.join(tmp, 'out');
    fs.mkdirSync(out);
    run('tar', [...XATTR_FLAGS, '-xpf', archive, '-C', out]);
    for (const rel of order) {
      const want = entryOnDisk(src, rel);
      const got = entryOnDisk(out, rel);
      assert.deepEqual(got, want, rel);
    }
    assert.equal(fs.statSync(path.join(out, 'd/ping-hard')).ino, fs.statSync(path.join(out, 'd/ping')).ino);
    assert.deepEqual(xattrsOf(under(out, 'd/ping')).get('security.capability'), CAP_NET_RAW);
    assert.deepEqual(xattrsOf(under(out, 'd/acl')).get('system.posix_acl_access'), ACL);
    // And GNU tar's own comparison of archive and extracted tree finds nothing to report.
    run('tar', [...XATTR_FLAGS, '--compare', '-f', archive, '-C', out]);
  });

  it('(a) refuses GNU sparse files in every GNU encoding, naming the file', async () => {
    const dir = path.join(tmp, 'sparse');
    fs.mkdirSync(dir);
    const fd = fs.openSync(path.join(dir, 'disk.img'), 'w');
    fs.writeSync(fd, 'data', 3 << 20);
    fs.ftruncateSync(fd, 8 << 20);
    fs.closeSync(fd);
    const variants = [
      ['--format=gnu'],
      ['--format=pax', '--sparse-version=0.0'],
      ['--format=pax', '--sparse-version=0.1'],
      ['--format=pax', '--sparse-version=1.0'],
    ];
    for (const flags of variants) {
      const tar = run('tar', [...flags, '--sparse', '-C', dir, '-cf', '-', 'disk.img']);
      await assert.rejects(
        readAll(tar, { where: 'sparse test' }),
        (e: unknown) =>
          e instanceof RechunkerError &&
          e.code === 'UNSUPPORTED' &&
          /sparse file "disk.img" in sparse test/.test(e.message),
        flags.join(' '),
      );
    }
  });

  it('(c) writes the same bytes as GNU tar --format=pax for entries both encode alike', async () => {
    const root = path.join(tmp, 'same');
    fs.mkdirSync(path.join(root, 't'), { recursive: true });
    const t = (rel: string) => path.join(root, rel);
    fs.writeFileSync(t('t/a'), 'hello\n');
    fs.writeFileSync(t('t/b'), Buffer.alloc(1000, 'b'));
    fs.symlinkSync('a', t('t/c'));
    fs.linkSync(t('t/a'), t('t/d'));
    run('mkfifo', [t('t/e')]);
    run('mknod', [t('t/f'), 'c', '1', '3']);
    fs.writeFileSync(t('t/x'), '');
    run('setfattr', ['-n', 'user.k', '-v', '0x00ff0a3d', t('t/x')]);
    fs.chownSync(t('t/x'), 1000, 2000);
    fs.chmodSync(t('t/x'), 0o2711);
    run('touch', ['-h', '-d', '@1700000001', t('t/a'), t('t/c'), t('t/e'), t('t/f')]);
    run('touch', ['-h', '-d', '@1700000002.25', t('t/b'), t('t/x')]);
    run('touch', ['-h', '-d', '@1700000000', t('t')]);
    const names = ['t', 't/a', 't/b', 't/c', 't/d', 't/e', 't/f', 't/x'];
    const gnu = run('tar', [
      '--format=pax',
      '--numeric-owner',
      '--xattrs',
      '--xattrs-include=user.*',
      '--pax-option=delete=atime,delete=ctime',
      '--no-recursion',
      '-C',
      root,
      '-cf',
      '-',
      ...names,
    ]);
    const items: TarWriteItem[] = names.map((rel) => {
      const entry = entryOnDisk(root, rel);
      if (rel === 't/d') return { entry: { ...entry, type: 'hardlink', linkname: 't/a', size: 0 } };
      return { entry, body: entry.type === 'file' ? fs.readFileSync(t(rel)) : undefined };
    });
    const ours = await collect(writeTar(items));
    assert.ok(gnu.length >= ours.length);
    assert.equal(ours.toString('latin1'), gnu.subarray(0, ours.length).toString('latin1'));
    assert.ok(
      gnu.subarray(ours.length).every((b) => b === 0),
      'GNU tar only adds zero padding to a full record',
    );
  });
});
