import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContentStore } from '../../src/graph/content-store.js';
import { readTar } from '../../src/tar/reader.js';
import { UNPACK_TIME, type FlatTree } from '../../src/verify/flat-tree.js';
import { layerTree } from '../../src/verify/layer-trees.js';
import { mergeOverlay } from '../../src/verify/merge-overlay.js';
import { PROBE_LAYERS, PROBE_TIME as T } from '../helpers/implied-dirs-probe.js';
import { makeTar } from '../helpers/make-tar.js';

/**
 * The `containerd` model against what containerd 1.6's overlayfs snapshotter showed for this very
 * stack (test/e2e/runtimes.test.ts pulls it into the real daemon): an implied directory copies
 * mode, owner and xattrs (not trusted.*) from the nearest lower layer that has it, and has the
 * time of unpacking; with none below, 0755 root. moby 20.10 showed 0755 root for all of them.
 */

describe('the containerd model', () => {
  let work: string;
  let store: ContentStore;
  let tree: FlatTree;
  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'verify-containerd-'));
    store = await ContentStore.create(work);
    const trees = [];
    for (const [i, layer] of PROBE_LAYERS.entries())
      trees.push(await layerTree(readTar([await makeTar(layer)]), store, i, `layer ${i}`));
    tree = mergeOverlay(trees, 'containerd');
  });
  after(async () => {
    await store.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  const meta = (p: string) => {
    const e = tree.get(p)!;
    return [e.mode.toString(8), e.uid, e.gid, e.mtime, [...e.xattrs.keys()].join(','), e.defaulted];
  };

  it('an implied directory copies mode, owner and xattrs but trusted.* from the nearest layer below', () => {
    assert.deepEqual(meta('a'), ['750', 1000, 1001, UNPACK_TIME, 'user.probe', true]);
    assert.deepEqual(meta('a/b'), ['700', 1002, 0, UNPACK_TIME, '', true]);
    assert.equal(tree.get('a')!.xattrs.get('user.probe')!.toString(), 'below');
  });

  it('skips layers that lack the directory, and defaults where none below has it', () => {
    assert.deepEqual(meta('c'), ['711', 5, 5, UNPACK_TIME, '', true], 'layer 1 has no c: layer 0 gives it');
    assert.deepEqual(meta('c/d'), ['755', 0, 0, UNPACK_TIME, '', true]);
    assert.deepEqual(meta('n'), ['755', 0, 0, UNPACK_TIME, '', true]);
    assert.deepEqual(meta('n/m'), ['755', 0, 0, UNPACK_TIME, '', true]);
  });

  it('a directory over a lower file copies nothing from the file', () => {
    assert.deepEqual(meta('f'), ['755', 0, 0, UNPACK_TIME, '', true]);
  });

  it('files and defined directories are as in the layer that has them', () => {
    assert.deepEqual(meta('a/x'), ['644', 0, 0, BigInt(T) * 1_000_000_000n, '', false]);
  });
});
