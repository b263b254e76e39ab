import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyLayer } from '../../src/graph/apply-layer.js';
import { FileGraph } from '../../src/graph/file-graph.js';
import { isHostXattr } from '../../src/graph/strip-xattrs.js';
import { snapshotTree, treeDelta } from '../../src/graph/tree-snapshot.js';
import { readTar } from '../../src/tar/reader.js';
import { type EntrySpec, makeTar } from '../helpers/make-tar.js';
import { scratchStore } from '../helpers/scratch-store.js';

describe('--keep-base: what a tree changes above its base', () => {
  const scratch = scratchStore('tree-snapshot-');

  const BASE: EntrySpec[] = [
    { path: 'etc', type: 'dir', mtimeSec: 10 },
    { path: 'etc/motd', body: 'hello' },
    { path: 'etc/keep', body: 'same' },
    { path: 'usr', type: 'dir', mtimeSec: 10 },
    { path: 'usr/lib', type: 'dir', mtimeSec: 10 },
    { path: 'usr/lib/old', type: 'dir', mtimeSec: 10 },
    { path: 'usr/lib/old/a', body: 'a' },
    { path: 'usr/lib/old/b', body: 'b' },
    { path: 'usr/bin', type: 'dir', mtimeSec: 10 },
    { path: 'usr/bin/tool', body: 'tool' },
    { path: 'usr/bin/tool2', type: 'hardlink', linkname: 'usr/bin/tool' },
    { path: 'var', type: 'dir', mtimeSec: 10 },
    { path: 'var/thing', type: 'dir', mtimeSec: 10 },
    { path: 'var/thing/x', body: 'x' },
    { path: 'srv', body: 'a file that becomes a directory' },
  ];

  /** The base as one layer, then each upper layer: the snapshot is taken between them. */
  async function stack(...uppers: EntrySpec[][]) {
    const g = new FileGraph(scratch.store.contents);
    await applyLayer(g, scratch.store, readTar([await makeTar(BASE)]), 0, 'base');
    const base = snapshotTree(g);
    for (const [i, layer] of uppers.entries())
      await applyLayer(g, scratch.store, readTar([await makeTar(layer)]), i + 1, 'up');
    return { g, base };
  }

  it('finds nothing when the upper layers only rewrite what the base has', async () => {
    const { g, base } = await stack([
      { path: 'etc/keep', body: 'same' },
      { path: 'etc', type: 'dir', mtimeSec: 10 },
    ]);
    assert.deepEqual(treeDelta(base, g), { files: new Set(), dirs: [], whiteouts: [] });
  });

  it('lists changed files, changed directories and the topmost of each deletion', async () => {
    const { g, base } = await stack(
      [
        { path: 'etc/motd', body: 'changed' },
        { path: 'etc', type: 'dir', mtimeSec: 20 },
        { path: 'usr/lib/.wh.old' },
        { path: 'var/thing/.wh.x' },
        { path: 'usr/bin/new', body: 'new' },
      ],
      [
        { path: '.wh.srv' },
        { path: 'srv', type: 'dir', mtimeSec: 30 },
        { path: 'var/.wh.thing' },
        { path: 'var/thing', body: 'now a file' },
      ],
    );
    const delta = treeDelta(base, g);
    assert.deepEqual([...delta.files], ['etc/motd', 'usr/bin/new', 'var/thing']);
    assert.deepEqual(delta.dirs, ['etc', 'srv']);
    // usr/lib/old goes whole (not its children); var/thing and srv changed between file and dir.
    assert.deepEqual(delta.whiteouts, ['srv', 'usr/lib/old', 'var/thing']);
  });

  it('writes a hardlink set whole when it gains a path, and not when it is untouched', async () => {
    const { g, base } = await stack([{ path: 'usr/bin/tool3', type: 'hardlink', linkname: 'usr/bin/tool' }]);
    assert.deepEqual([...treeDelta(base, g).files], ['usr/bin/tool', 'usr/bin/tool2', 'usr/bin/tool3']);
  });

  it('notices metadata and xattr changes, and ignores the xattrs a run leaves out', async () => {
    const { g, base } = await stack([
      { path: 'etc/keep', body: 'same', mode: 0o600 },
      { path: 'usr/bin/tool', body: 'tool', xattrs: { 'security.selinux': 'system_u:object_r:bin_t:s0' } },
      { path: 'usr/bin/tool2', type: 'hardlink', linkname: 'usr/bin/tool' },
    ]);
    assert.deepEqual([...treeDelta(base, g).files], ['etc/keep', 'usr/bin/tool', 'usr/bin/tool2']);
    assert.deepEqual([...treeDelta(base, g, { ignoreXattr: isHostXattr }).files], ['etc/keep']);
  });
});
