import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reviewBootc } from '../../src/assemble/bootc-labels.js';
import { type FileGraph, isDir } from '../../src/graph/file-graph.js';
import { normalizePrunePath, prunePaths } from '../../src/graph/prune-paths.js';
import { stripHostXattrs } from '../../src/graph/strip-xattrs.js';
import { graphOf } from '../helpers/graph-of.js';

const paths = (g: FileGraph) => [...g.walk()].map(([p, n]) => (isDir(n) ? `${p}/` : p));

test('--prune PATH drops it and all under it; PATH/ keeps the directory', () => {
  const g = graphOf([
    'sysroot/',
    'sysroot/ostree/',
    'sysroot/ostree/a',
    'usr/',
    'usr/b',
    'var/',
    'var/cache/',
    'var/cache/x',
  ]);
  const r = prunePaths(g, ['/sysroot/', '/var/cache', '/nope']);
  assert.deepEqual(paths(g), ['sysroot/', 'usr/', 'usr/b', 'var/']);
  assert.equal(r.removed, 4);
  assert.deepEqual(r.missing, ['/nope']);
});

test('--prune of one name of a hardlink set leaves the others with the content', () => {
  const g = graphOf(['usr/', 'usr/bin', 'sysroot/', 'sysroot/obj'], { 'sysroot/obj': 'usr/bin' });
  prunePaths(g, ['/sysroot/']);
  assert.deepEqual(paths(g), ['sysroot/', 'usr/', 'usr/bin']);
  assert.equal(g.hardlinkSets().size, 0, 'no set is left half-linked');
});

test('--prune paths must be absolute and stay inside the tree', () => {
  assert.throws(() => normalizePrunePath('sysroot'), /absolute/);
  assert.throws(() => normalizePrunePath('/a/../b'), /\.\./);
  assert.deepEqual(normalizePrunePath('/sysroot/'), { path: 'sysroot', keepDir: true });
  assert.throws(() => prunePaths(graphOf(['f']), ['/f/']), /not a directory/);
});

test('security.selinux and trusted.* are left out, counted per file; other xattrs stay', () => {
  const g = graphOf(
    ['a', 'b', 'c'],
    {},
    {
      a: { 'security.selinux': 'x', 'security.capability': 'c' },
      b: { 'trusted.overlay.opaque': 'y' },
      c: { 'user.component': 'p' },
    },
  );
  const r = stripHostXattrs(g);
  assert.equal(r.files, 2);
  assert.deepEqual([...r.names].sort(), ['security.selinux', 'trusted.overlay.opaque']);
  assert.deepEqual([...g.get('a')!.inode.xattrs!.keys()], ['security.capability']);
  assert.equal(g.get('b')!.inode.xattrs, null);
  assert.equal(g.get('c')!.inode.xattrs!.get('user.component')!.toString(), 'p');
});

test('bootc: ostree labels go when there is no ostree repo, and an unpruned /sysroot/ostree is a warning', () => {
  const labels = {
    'containers.bootc': '1',
    'ostree.bootable': 'true',
    'ostree.commit': 'abc',
    'ostree.final-diffid': 'sha256:x',
  };
  const withRepo = graphOf([
    'sysroot/',
    'sysroot/ostree/',
    'sysroot/ostree/repo/',
    'sysroot/ostree/repo/objects/',
    'sysroot/ostree/repo/objects/o',
  ]);
  const kept = reviewBootc(withRepo, labels, []);
  assert.deepEqual(kept.labelOps, []);
  assert.match(kept.warnings.join(), /\/sysroot\/ostree holds 3 entries/);
  const pruned = graphOf(['sysroot/']);
  const r = reviewBootc(pruned, labels, ['/sysroot/']);
  assert.deepEqual(r.labelOps, ['ostree.commit-', 'ostree.final-diffid-']);
  assert.match(r.notes.join(), /no longer ostree-encapsulated/);
  assert.deepEqual(r.warnings, []);
});
