import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyLayer } from '../../src/graph/apply-layer.js';
import { FileGraph } from '../../src/graph/file-graph.js';
import { readTar } from '../../src/tar/reader.js';
import { compareTrees } from '../../src/verify/compare.js';
import { flattenGraph, UNPACK_TIME, type FlatTree } from '../../src/verify/flat-tree.js';
import { layerTree } from '../../src/verify/layer-trees.js';
import { mergeOverlay } from '../../src/verify/merge-overlay.js';
import { scratchStore } from '../helpers/scratch-store.js';
import { makeTar, type EntrySpec } from '../helpers/make-tar.js';

const dir = (p: string, mode: number, mtimeSec: number, more: Partial<EntrySpec> = {}): EntrySpec => ({
  path: p,
  type: 'dir',
  mode,
  mtimeSec,
  ...more,
});
const file = (p: string, body: string, more: Partial<EntrySpec> = {}): EntrySpec => ({
  path: p,
  body,
  mtimeSec: 5,
  ...more,
});

describe('unpacker models', () => {
  const scratch = scratchStore('verify-models-');

  /** The three models' trees of a stack of layers, bottom first. */
  async function models(layers: EntrySpec[][]): Promise<{ oci: FlatTree; overlay: FlatTree; delegate: FlatTree }> {
    const tars = await Promise.all(layers.map((l) => makeTar(l)));
    const graph = new FileGraph(scratch.store.contents);
    const trees = [];
    for (const [i, tar] of tars.entries()) {
      await applyLayer(graph, scratch.store, readTar([tar]), i, `layer ${i}`);
      trees.push(await layerTree(readTar([tar]), scratch.store, i, `layer ${i}`));
    }
    return {
      oci: flattenGraph(graph),
      overlay: mergeOverlay(trees, 'overlay'),
      delegate: mergeOverlay(trees, 'delegate'),
    };
  }

  it('an implied directory shadows the real one under overlay; delegate and oci keep it', async () => {
    const m = await models([
      [dir('usr', 0o755, 100), dir('usr/bin', 0o750, 200, { uid: 5 }), file('usr/bin/a', 'a')],
      [file('usr/bin/b', 'b')],
    ]);
    for (const t of [m.oci, m.delegate]) {
      assert.equal(t.get('usr/bin')!.mode, 0o750);
      assert.equal(t.get('usr/bin')!.uid, 5);
      assert.equal(t.get('usr/bin')!.mtime, 200_000_000_000n);
      assert.equal(t.get('usr/bin')!.defaulted, false);
    }
    const shadowed = m.overlay.get('usr/bin')!;
    assert.deepEqual([shadowed.mode, shadowed.uid, shadowed.mtime, shadowed.defaulted], [0o755, 0, UNPACK_TIME, true]);
    assert.ok(m.overlay.get('usr/bin/a') && m.overlay.get('usr/bin/b'), 'contents merge');
    const diffs = compareTrees(m.overlay, m.oci);
    assert.deepEqual(
      diffs.map((d) => [d.path, d.kind, d.fields.map((f) => f.field)]),
      [
        ['usr', 'shadowed', ['mtime']],
        ['usr/bin', 'shadowed', ['mode', 'uid', 'mtime']],
      ],
    );
    assert.deepEqual(compareTrees(m.delegate, m.oci), []);
  });

  it('delegate falls back to the overlay default when no lower layer defines the directory', async () => {
    const m = await models([[file('a', 'a')], [file('opt/x/y', 'y')]]);
    assert.equal(m.delegate.get('opt/x')!.defaulted, true);
    assert.equal(m.overlay.get('opt')!.defaulted, true);
    assert.equal(m.oci.get('opt')!.defaulted, true, 'no unpacker knows better');
  });

  it('an entry in an upper layer is the metadata, whatever lies below', async () => {
    const m = await models([
      [dir('etc', 0o700, 1), file('etc/a', 'a')],
      [dir('etc', 0o755, 9), file('etc/b', 'b')],
    ]);
    for (const t of [m.oci, m.overlay, m.delegate])
      assert.deepEqual([t.get('etc')!.mode, t.get('etc')!.mtime], [0o755, 9_000_000_000n]);
  });

  it('whiteouts and opaque directories hide what is below; the whiteout implies its directory', async () => {
    const m = await models([
      [
        dir('etc', 0o755, 1),
        file('etc/old', 'o'),
        file('etc/keep', 'k'),
        dir('srv', 0o755, 1),
        file('srv/gone', 'g'),
        file('srv/stay', 's'),
      ],
      [dir('etc', 0o755, 2), file('etc/.wh..wh..opq', ''), file('etc/new', 'n'), file('srv/.wh.gone', '')],
    ]);
    for (const t of [m.oci, m.overlay, m.delegate]) {
      assert.deepEqual([...t.keys()].filter((p) => p.startsWith('etc/')).sort(), ['etc/new']);
      assert.deepEqual([...t.keys()].filter((p) => p.startsWith('srv/')).sort(), ['srv/stay']);
    }
    assert.equal(m.overlay.get('srv')!.defaulted, true, 'the whiteout made srv in the upper layer');
    assert.equal(m.delegate.get('srv')!.defaulted, false);
  });

  it('a directory over a lower file hides the file; a file over a lower directory hides the tree', async () => {
    const m = await models([
      [file('x', 'x'), dir('y', 0o755, 1), file('y/z', 'z')],
      [file('x/inner', 'i'), file('y', 'now a file')],
    ]);
    for (const t of [m.oci, m.overlay, m.delegate]) {
      assert.equal(t.get('x')!.type, 'dir');
      assert.ok(t.has('x/inner'));
      assert.equal(t.get('y')!.type, 'file');
      assert.ok(!t.has('y/z'));
    }
  });

  it('hardlink sets: a path replaced above leaves the set', async () => {
    const m = await models([
      [
        dir('b', 0o755, 1),
        file('b/one', 'same'),
        { path: 'b/two', type: 'hardlink', linkname: 'b/one' },
        { path: 'b/three', type: 'hardlink', linkname: 'b/one' },
      ],
      [dir('b', 0o755, 1), file('b/three', 'other')],
    ]);
    for (const t of [m.oci, m.overlay, m.delegate]) {
      assert.deepEqual(t.get('b/one')!.hardlinks, ['b/one', 'b/two']);
      assert.equal(t.get('b/three')!.hardlinks, undefined);
    }
  });
});
