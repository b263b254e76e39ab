/** Shared checks on detectComponents' output (not a test file itself: no `.test` in its name). */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Component, TreeView } from '../../src/components/types.js';

/** Every non-directory path in exactly one component; names and paths in byte order; sizes right. */
export function assertPartition(tree: TreeView, components: Component[]): void {
  const owner = new Map<string, string>();
  for (const c of components) {
    assert.ok(c.paths.length > 0, `${c.name} is empty`);
    assert.deepEqual(c.paths, [...c.paths].sort(), `${c.name} paths not sorted`);
    const counted = new Set<string>();
    let size = 0;
    for (const p of c.paths) {
      const prev = owner.get(p);
      assert.equal(prev, undefined, `${p} is in both ${prev} and ${c.name}`);
      owner.set(p, c.name);
      const n = tree.lookup(p);
      assert.ok(n !== undefined, `${c.name} lists ${p}, absent from the tree`);
      assert.notEqual(n.type, 'dir', `${c.name} lists directory ${p}`);
      if ((n.type === 'file' || n.type === 'hardlink') && !counted.has(p)) {
        size += n.size;
        for (const l of n.links) counted.add(l);
      }
    }
    assert.equal(c.size, size, `${c.name} size`);
  }
  const names = components.map((c) => c.name);
  assert.deepEqual(names, [...names].sort(), 'components not sorted by name');
  assert.equal(new Set(names).size, names.length, 'duplicate component names');
  for (const p of tree.paths()) {
    const n = tree.lookup(p)!;
    if (n.type === 'dir') continue;
    assert.ok(owner.has(p), `${p} belongs to no component`);
    for (const l of n.links) assert.equal(owner.get(l), owner.get(p), `hardlink set of ${p} split`);
  }
}

/** A file of the shared fixtures directory (outside the repo), looked for from here upwards. */
export function sharedFixture(rel: string): string | undefined {
  for (let d = dirname(fileURLToPath(import.meta.url)); ; d = dirname(d)) {
    const p = join(d, 'shared', 'fixtures', rel);
    if (existsSync(p)) return p;
    if (dirname(d) === d) return undefined;
  }
}
