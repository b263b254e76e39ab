import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareTrees } from '../../src/verify/compare.js';
import type { FlatEntry, FlatTree } from '../../src/verify/flat-tree.js';

const entry = (over: Partial<FlatEntry>): FlatEntry => ({
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 1_000_000_000_000_000_000n,
  xattrs: new Map(),
  defaulted: false,
  ...over,
});
const tree = (entries: Record<string, FlatEntry>): FlatTree => new Map(Object.entries(entries));

describe('verify compare', () => {
  it('a symlink mode is not compared (Linux ignores it), a file mode is', () => {
    const a = tree({ l: entry({ type: 'symlink', mode: 0o777, linkname: 't' }), f: entry({ mode: 0o644 }) });
    const b = tree({ l: entry({ type: 'symlink', mode: 0o755, linkname: 't' }), f: entry({ mode: 0o600 }) });
    const d = compareTrees(a, b);
    assert.deepEqual(
      d.map((x) => [x.path, x.fields.map((f) => f.field)]),
      [['f', ['mode']]],
    );
  });

  it('--ignore mtime-ns leaves sub-second mtime differences out, not whole seconds', () => {
    const a = tree({
      x: entry({ mtime: 1_700_000_000_123_456_789n }),
      y: entry({ mtime: 1_700_000_000_000_000_000n }),
    });
    const b = tree({
      x: entry({ mtime: 1_700_000_000_000_000_000n }),
      y: entry({ mtime: 1_700_000_001_000_000_000n }),
    });
    assert.deepEqual(
      compareTrees(a, b).map((x) => x.path),
      ['x', 'y'],
      'both differ by default',
    );
    const d = compareTrees(a, b, { ignore: ['mtime-ns'] });
    assert.deepEqual(
      d.map((x) => [x.path, x.fields.map((f) => `${f.field} ${f.a} -> ${f.b}`)]),
      [['y', ['mtime 2023-11-14T22:13:20Z -> 2023-11-14T22:13:21Z']]],
    );
  });
});
