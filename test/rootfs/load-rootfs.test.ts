import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { ContentStore } from '../../src/graph/content-store.js';
import { FileGraph, isDir } from '../../src/graph/file-graph.js';
import { loadRootfs } from '../../src/rootfs/load-rootfs.js';
import { readXattrs } from '../../src/rootfs/read-xattrs.js';
import { inodeFromStat, splitDevice, splitMtime } from '../../src/rootfs/stat-inode.js';
import { compareTrees, formatDifferences } from '../helpers/tree-compare.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';
import { run, runOk } from '../helpers/tools.js';
import { graphSnapshot } from './graph-snapshot.js';
import { makeTree, NON_UTF8, treeSkipReason, type MadeTree } from './make-tree.js';

let tmp: string;
const stores: ContentStore[] = [];
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-rootfs-'));
});
after(async () => {
  for (const s of stores) await s.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

async function load(dir: string, opts: Parameters<typeof loadRootfs>[3] = {}) {
  const store = await ContentStore.create(await fs.mkdtemp(path.join(tmp, 'store-')));
  const graph = new FileGraph(store.contents);
  stores.push(store);
  const result = await loadRootfs(dir, graph, store, opts);
  await store.flush();
  return { graph, store, result };
}

describe('stat -> inode', () => {
  it('splits mtimes (also before 1970) and device numbers as glibc does', () => {
    assert.deepEqual(splitMtime(1_700_000_000_123_456_789n), { sec: 1_700_000_000, nsec: 123_456_789 });
    assert.deepEqual(splitMtime(-1n), { sec: -1, nsec: 999_999_999 });
    assert.deepEqual(splitMtime(-1_000_000_000n), { sec: -1, nsec: 0 });
    assert.deepEqual(splitDevice(0x0103n), { major: 1, minor: 3 });
    // major 259, minor 300000 (a large NVMe minor) in the 64-bit encoding
    const rdev = ((259n & 0xfffn) << 8n) | (300000n & 0xffn) | ((300000n & ~0xffn) << 12n);
    assert.deepEqual(splitDevice(rdev), { major: 259, minor: 300000 });
  });

  it('keeps mode bits, owners and nanoseconds from lstat', async () => {
    const f = path.join(tmp, 'one');
    await fs.writeFile(f, 'x');
    await fs.chmod(f, 0o4711);
    const inode = inodeFromStat(await fs.lstat(f, { bigint: true }));
    assert.equal(inode.type, 'file');
    assert.equal(inode.mode, 0o4711);
    assert.equal(inode.size, 1);
    assert.equal(inode.content, null);
    assert.equal(inode.linked, false);
  });
});

describe('loadRootfs on a tree made here', () => {
  let skip: string | undefined;
  let made: MadeTree | undefined;
  before(async () => {
    skip = await treeSkipReason();
    if (!skip) made = await makeTree(path.join(tmp, 'tree'));
  });
  after(() => made?.socket.close());

  it('gives the graph that lstat and getfattr describe, entry by entry', async (t) => {
    if (skip) return t.skip(skip);
    const { graph, result } = await load(made!.root);
    const truth = await snapshotTree(made!.root);
    const diffs = compareTrees(truth, graphSnapshot(graph), { ignore: (p) => p === 'weird/sock' });
    assert.equal(diffs.length, 0, formatDifferences(diffs));
    assert.equal(truth.get('weird/sock')?.type, 'socket');
    assert.equal(graph.get('weird/sock'), undefined, 'sockets are left out');
    assert.deepEqual(result.sockets, ['weird/sock']);
    assert.match(result.warnings.join('\n'), /"weird\/sock" is a socket/);
  });

  it("reads byte-exact xattrs, and a symlink never reports its target's", async (t) => {
    if (skip) return t.skip(skip);
    const { graph } = await load(made!.root);
    const ping = graph.get('usr/bin/ping')!.inode;
    const cap = ping.xattrs?.get('security.capability');
    assert.ok(cap && cap.length >= 20, 'security.capability is there, binary');
    assert.equal(cap.readUInt32LE(0) >>> 24, 2, 'VFS_CAP_REVISION_2');
    assert.equal(ping.xattrs?.get('user.component')?.toString(), 'iputils');
    assert.equal(graph.get('usr/bin/ping4')!.inode.xattrs, null);
    assert.equal(graph.get('usr/bin/ping4')!.inode.linkname, 'ping');
    assert.deepEqual(graph.get('private/secret')!.inode.xattrs?.get('user.binary'), Buffer.from('00ff10e9c300', 'hex'));
    assert.equal(graph.get('private')!.inode.xattrs?.get('user.dir.note')?.toString(), 'a directory xattr');
    // The low-level reader alone, on the link and on its target.
    assert.equal(await readXattrs(Buffer.from(path.join(made!.root, 'usr/bin/ping4')), true), null);
    assert.ok(
      (await readXattrs(Buffer.from(path.join(made!.root, 'usr/bin/ping')), false))?.has('security.capability'),
    );
  });

  it("reads a symlink's own xattrs (trusted.*, settable on a link as root)", async (t) => {
    if (skip) return t.skip(skip);
    const d = path.join(tmp, 'link-xattr');
    await fs.mkdir(d);
    await fs.writeFile(path.join(d, 'target'), 'x');
    await runOk('setfattr', ['-n', 'user.on-target', '-v', 'target only', path.join(d, 'target')]);
    await fs.symlink('target', path.join(d, 'link'));
    const set = await run('setfattr', ['-h', '-n', 'trusted.on-link', '-v', '0x01ff', path.join(d, 'link')]);
    if (set.code !== 0) return t.skip(`this filesystem takes no trusted.* xattr on a symlink: ${set.stderr.trim()}`);
    const { graph } = await load(d);
    assert.deepEqual(
      [...(graph.get('link')!.inode.xattrs ?? new Map())],
      [['trusted.on-link', Buffer.from([1, 0xff])]],
    );
    assert.deepEqual(
      [...(graph.get('target')!.inode.xattrs ?? new Map())],
      [['user.on-target', Buffer.from('target only')]],
    );
  });

  it('shares one inode across a hardlink set, stores its content once, and keeps names as bytes', async (t) => {
    if (skip) return t.skip(skip);
    const { graph, store } = await load(made!.root);
    const a = graph.get('data/a')!.inode;
    assert.equal(graph.get('data/b')!.inode, a);
    assert.equal(graph.get('data/sub/c')!.inode, a);
    assert.equal(a.linked, true);
    assert.deepEqual([...graph.hardlinkSets().values()], [['data/a', 'data/b', 'data/sub/c']]);
    assert.deepEqual(await store.readAll(a.content!), await fs.readFile(path.join(made!.root, 'data/a')));
    assert.deepEqual(
      await store.readAll(graph.get('data/big')!.inode.content!),
      await fs.readFile(path.join(made!.root, 'data/big')),
    );
    assert.equal(store.contents.size(graph.get('data/empty')!.inode.content!), 0);
    assert.equal(
      graph.get('data/same-as-passwd')!.inode.content,
      graph.get('etc/passwd')!.inode.content,
      'equal contents stored once',
    );
    const latin1 = NON_UTF8.toString('latin1');
    assert.equal(graph.get(`weird/${latin1}`)?.inode.type, 'file');
    assert.ok(isDir(graph.get(`weird/dir-${latin1}`)!));
    assert.deepEqual(graph.get('dev/null')!.inode, {
      ...graph.get('dev/null')!.inode,
      type: 'chardev',
      devmajor: 1,
      devminor: 3,
      mode: 0o666,
    });
    assert.equal(graph.get('dev/initctl')!.inode.type, 'fifo');
  });

  it('gives the root directory its own metadata, not an implied one', async (t) => {
    if (skip) return t.skip(skip);
    const { graph } = await load(made!.root);
    const st = await fs.lstat(made!.root, { bigint: true });
    assert.equal(graph.root.implied, false);
    assert.equal(graph.root.inode.type, 'dir');
    assert.equal(graph.root.inode.mode, Number(st.mode & 0o7777n));
    assert.equal(BigInt(graph.root.inode.mtimeSec) * 1_000_000_000n + BigInt(graph.root.inode.mtimeNsec), st.mtimeNs);
  });

  it('gives the same graph and the same pack file whatever order the walk meets things in', async (t) => {
    if (skip) return t.skip(skip);
    const one = await load(made!.root, { jobs: 1 });
    const many = await load(made!.root, { jobs: 64 });
    assert.deepEqual(graphSnapshot(many.graph), graphSnapshot(one.graph));
    const offsets = (g: FileGraph) =>
      [...g.walk()].map(([p, n]) => `${p}@${n.inode.content === null ? '-' : g.contents.offset(n.inode.content)}`);
    assert.deepEqual(offsets(many.graph), offsets(one.graph));
    assert.deepEqual(await fs.readFile(many.store.file), await fs.readFile(one.store.file));
  });

  it('keeps a mount point of another filesystem as an empty directory, unless told to cross', async (t) => {
    if (skip) return t.skip(skip);
    const mnt = path.join(made!.root, 'mnt');
    await fs.mkdir(mnt);
    const m = await run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'rechunker-test', mnt]);
    if (m.code !== 0) return t.skip(`cannot mount a tmpfs here: ${m.stderr.trim()}`);
    try {
      await fs.writeFile(path.join(mnt, 'inside'), 'x');
      const { graph, result } = await load(made!.root);
      const node = graph.get('mnt')!;
      assert.ok(isDir(node) && node.children.size === 0);
      assert.deepEqual(result.mountPoints, ['mnt']);
      assert.match(result.warnings.join('\n'), /"mnt" is a mount point of another filesystem/);
      const crossed = await load(made!.root, { oneFileSystem: false });
      assert.equal(crossed.graph.get('mnt/inside')?.inode.type, 'file');
    } finally {
      await run('umount', [mnt]);
      await fs.rmdir(mnt);
    }
  });
});

describe('loadRootfs refuses what it cannot represent', () => {
  it('names a missing directory', async () => {
    await assert.rejects(
      load(path.join(tmp, 'nope')),
      (e: unknown) => e instanceof RechunkerError && e.code === 'NOT_FOUND' && /nope/.test(e.message),
    );
  });

  it('refuses a file where the directory should be', async () => {
    const f = path.join(tmp, 'plain-file');
    await fs.writeFile(f, '');
    await assert.rejects(load(f), (e: unknown) => e instanceof RechunkerError && /not a directory/.test(e.message));
  });

  it('refuses a name a layer would read as a whiteout', async () => {
    const d = path.join(tmp, 'whiteout');
    await fs.mkdir(path.join(d, 'etc'), { recursive: true });
    await fs.writeFile(path.join(d, 'etc', '.wh.passwd'), '');
    await assert.rejects(
      load(d),
      (e: unknown) => e instanceof RechunkerError && e.code === 'UNSUPPORTED' && /etc\/\.wh\.passwd/.test(e.message),
    );
  });

  it('names an unreadable file (as a user that permissions apply to)', async (t) => {
    if (process.getuid?.() === 0) return t.skip('root reads every file');
    const d = path.join(tmp, 'unreadable');
    await fs.mkdir(d);
    await fs.writeFile(path.join(d, 'locked'), 'x');
    await fs.chmod(path.join(d, 'locked'), 0);
    await assert.rejects(
      load(d),
      (e: unknown) => e instanceof RechunkerError && e.code === 'IO' && /"locked": EACCES/.test(e.message),
    );
  });
});
