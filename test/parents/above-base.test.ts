import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layerEntries } from '../../src/assemble/output-entries.js';
import { applyLayer } from '../../src/graph/apply-layer.js';
import { FileGraph } from '../../src/graph/file-graph.js';
import { dirsAboveBase, whiteoutLayer } from '../../src/parents/index.js';
import { readTar } from '../../src/tar/reader.js';
import { scratchStore } from '../helpers/scratch-store.js';
import { makeTar } from '../helpers/make-tar.js';

describe('directories and whiteouts above a kept base', () => {
  const ALL = ['.', 'etc', 'etc/ssl', 'usr', 'usr/lib', 'usr/share', 'var'];

  it('carries the changed directories and every one above a written or hidden path, nothing else', () => {
    assert.deepEqual(dirsAboveBase(['var'], ['etc/ssl/cert.pem', 'usr/lib/gone'], ALL), [
      '.',
      'etc',
      'etc/ssl',
      'usr',
      'usr/lib',
      'var',
    ]);
    // An implied directory (not in ALL) stays implied; usr/share is untouched and left to the base.
    assert.deepEqual(dirsAboveBase([], ['opt/app/x'], ALL), ['.']);
  });

  describe('the whiteout layer', () => {
    const scratch = scratchStore('above-base-');

    it('writes .wh. entries in path order with their parents, as the final tree has them', async () => {
      const g = new FileGraph(scratch.store.contents);
      const tar = await makeTar([
        { path: 'etc', type: 'dir', mtimeSec: 77, mode: 0o750 },
        { path: 'etc/ssl', type: 'dir', mtimeSec: 78 },
        { path: 'usr', type: 'dir', mtimeSec: 79 },
      ]);
      await applyLayer(g, scratch.store, readTar([tar]), 0, 'test');
      const layer = whiteoutLayer(['etc/ssl/old', 'etc/motd', 'usr/lib'], ['etc', 'etc/ssl', 'usr']);
      const entries = [...layerEntries(g, scratch.store, layer, {})].map((i) => i.entry);
      assert.deepEqual(
        entries.map((e) => [e.path, e.type, e.size, e.mtimeSec, e.mode]),
        [
          ['etc', 'dir', 0, 77, 0o750],
          ['etc/.wh.motd', 'file', 0, 0, 0o644],
          ['etc/ssl', 'dir', 0, 78, 0o755],
          ['etc/ssl/.wh.old', 'file', 0, 0, 0o644],
          ['usr', 'dir', 0, 79, 0o755],
          ['usr/.wh.lib', 'file', 0, 0, 0o644],
        ],
      );
    });
  });
});
