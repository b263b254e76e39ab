import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyLayer } from '../../src/graph/apply-layer.js';
import { FileGraph, isDir, type DirNode } from '../../src/graph/file-graph.js';
import { readTar } from '../../src/tar/reader.js';
import { type EntrySpec, makeTar } from '../helpers/make-tar.js';
import { scratchStore } from '../helpers/scratch-store.js';

describe('applyLayer: a lower directory a whiteout removes', () => {
  const scratch = scratchStore('apply-layer-');
  const LOWER: EntrySpec[] = [
    { path: 'etc', type: 'dir' },
    { path: 'etc/sub', type: 'dir', mode: 0o700, uid: 5, gid: 5, mtimeSec: 1_700_000_000 },
    { path: 'etc/sub/old', body: 'o' },
  ];

  async function sub(upper: EntrySpec[]): Promise<DirNode> {
    const g = new FileGraph(scratch.store.contents);
    await applyLayer(g, scratch.store, readTar([await makeTar(LOWER)]), 0, 'lower');
    await applyLayer(g, scratch.store, readTar([await makeTar(upper)]), 1, 'upper');
    const node = g.get('etc/sub');
    assert.ok(node && isDir(node));
    assert.equal(g.get('etc/sub/old'), undefined, 'the lower content is gone');
    assert.ok(g.get('etc/sub/x'), "the layer's own file stays");
    return node;
  }

  for (const [name, upper] of [
    ['whiteout after the entry that implies it', [{ path: 'etc/sub/x', body: 'x' }, { path: 'etc/.wh.sub' }]],
    ['whiteout before it', [{ path: 'etc/.wh.sub' }, { path: 'etc/sub/x', body: 'x' }]],
    ['opaque parent after it', [{ path: 'etc/sub/x', body: 'x' }, { path: 'etc/.wh..wh..opq' }]],
  ] as [string, EntrySpec[]][]) {
    it(`comes back implied, not with its old metadata: ${name}`, async () => {
      const node = await sub(upper);
      assert.equal(node.implied, true);
      assert.deepEqual([node.inode.mode, node.inode.uid, node.inode.gid, node.inode.mtimeSec], [0o755, 0, 0, 0]);
    });
  }

  it("keeps the metadata this layer's own entry gave it", async () => {
    const node = await sub([
      { path: 'etc/sub', type: 'dir', mode: 0o750, uid: 7 },
      { path: 'etc/sub/x', body: 'x' },
      { path: 'etc/.wh..wh..opq' },
    ]);
    assert.equal(node.implied, false);
    assert.deepEqual([node.inode.mode, node.inode.uid], [0o750, 7]);
  });
});
