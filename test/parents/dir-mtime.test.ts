import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dirsChangedByMtime, layerEntries } from '../../src/assemble/output-entries.js';
import { applyLayer } from '../../src/graph/apply-layer.js';
import { FileGraph } from '../../src/graph/file-graph.js';
import { DIR_MTIME_CLAMP, parentDirStrategy } from '../../src/parents/index.js';
import type { LayerPaths } from '../../src/parents/strategy.js';
import { readTar } from '../../src/tar/reader.js';
import { scratchStore } from '../helpers/scratch-store.js';
import { makeTar } from '../helpers/make-tar.js';

describe('--dir-mtime clamp', () => {
  const scratch = scratchStore('dir-mtime-');

  /** A small OS tree whose `usr` mtime is the one thing an update changes. */
  async function graph(usrMtime: number): Promise<FileGraph> {
    const g = new FileGraph(scratch.store.contents);
    const tar = await makeTar([
      { path: 'usr', type: 'dir', mtimeSec: usrMtime, mtimeNsec: 5 },
      { path: 'usr/bin', type: 'dir', mtimeSec: 300 },
      { path: 'usr/bin/a', body: 'a', mtimeSec: 400 },
      { path: 'usr/bin/b', body: 'b', mtimeSec: 400 },
    ]);
    await applyLayer(g, scratch.store, readTar([tar]), 0, 'test');
    return g;
  }

  async function entries(g: FileGraph, layer: LayerPaths, dirMtime?: number) {
    const out = [];
    for (const item of layerEntries(g, scratch.store, layer, dirMtime === undefined ? {} : { dirMtime }))
      out.push(item.entry);
    return out;
  }

  it('sets every directory entry to the fixed mtime and leaves files alone', async () => {
    const g = await graph(100);
    const [layer] = parentDirStrategy('every-layer').place(
      [{ files: ['usr/bin/a'], dirs: [], components: ['a'] }],
      ['usr', 'usr/bin'],
    );
    const es = await entries(g, layer!, DIR_MTIME_CLAMP);
    assert.deepEqual(
      es.map((e) => [e.path, e.mtimeSec, e.mtimeNsec]),
      [
        ['usr', 0, 0],
        ['usr/bin', 0, 0],
        ['usr/bin/a', 400, 0],
      ],
    );
    assert.equal(dirsChangedByMtime(g, DIR_MTIME_CLAMP), 2, 'what the cost line counts');
    assert.equal(dirsChangedByMtime(await graph(300), 300), 1, 'usr differs by its nanoseconds, usr/bin not at all');
  });

  it('makes every-layer layers independent of directory mtimes, which is what it is for', async () => {
    const comps = [
      { files: ['usr/bin/a'], dirs: [], components: ['a'] },
      { files: ['usr/bin/b'], dirs: [], components: ['b'] },
    ];
    const layers = parentDirStrategy('every-layer').place(comps, ['usr', 'usr/bin']);
    const [before, afterUpdate] = [await graph(100), await graph(200)];
    for (const l of layers) {
      assert.notDeepEqual(
        await entries(before, l),
        await entries(afterUpdate, l),
        'keep: the usr mtime is in every layer',
      );
      assert.deepEqual(
        await entries(before, l, DIR_MTIME_CLAMP),
        await entries(afterUpdate, l, DIR_MTIME_CLAMP),
        'clamp: identical',
      );
    }
  });
});
