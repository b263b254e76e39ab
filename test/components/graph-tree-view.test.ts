import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphTreeView } from '../../src/components/graph-tree-view.js';
import type { ContentStore } from '../../src/graph/content-store.js';
import { FileGraph, inodeFromEntry, type DirNode } from '../../src/graph/file-graph.js';
import { newEntry } from '../../src/tar/entry.js';

/** Paths ending in '/' are directories, `name -> target` symlinks, the rest empty files; parents first. */
function graphOf(specs: string[]): FileGraph {
  const g = new FileGraph();
  for (const spec of specs) {
    const [p, target] = spec.split(' -> ') as [string, string | undefined];
    const dir = p.endsWith('/');
    const clean = dir ? p.slice(0, -1) : p;
    const parts = clean.split('/');
    let parent: DirNode = g.root;
    for (const part of parts.slice(0, -1)) parent = parent.children.get(part) as DirNode;
    const name = parts[parts.length - 1]!;
    const type = dir ? 'dir' : target !== undefined ? 'symlink' : 'file';
    const inode = inodeFromEntry(newEntry(clean, type, target !== undefined ? { linkname: target } : {}), null);
    parent.children.set(
      name,
      dir
        ? { name, parent, children: new Map(), inode, layer: 0, implied: false }
        : { name, parent, children: null, inode, layer: 0 },
    );
  }
  return g;
}

const graph = graphOf([
  'usr/',
  'usr/bin/',
  'usr/bin/sh',
  'usr/lib/',
  'usr/lib64 -> ../lib',
  'lib/',
  'bin -> usr/bin',
  'libx -> /usr/lib',
  'a -> b',
  'b -> usr/lib/deep',
  'loop1 -> loop2',
  'loop2 -> loop1',
  'etc/',
  'etc/passwd',
]);
const view = new GraphTreeView(graph, {} as ContentStore);

test('resolveParents follows symlinks in every component but the last', () => {
  const cases: [string, string][] = [
    ['bin/sh', 'usr/bin/sh'],
    ['bin', 'bin'], // the last component is never followed
    ['libx/x/y', 'usr/lib/x/y'], // an absolute target starts again at the root
    ['a/f', 'usr/lib/deep/f'], // a chain of links
    ['usr/lib64/f', 'lib/f'], // '..' in a target
    ['loop1/f', 'loop1/f'], // a loop gives the input back
    ['nope/a/b', 'nope/a/b'], // nothing below a missing directory
    ['etc/passwd/x', 'etc/passwd/x'], // a file in the middle
    ['./etc//passwd', 'etc/passwd'],
    ['bin/../etc/x', 'usr/etc/x'], // '..' after a link is taken from the link's target
  ];
  for (const [input, want] of cases) assert.equal(view.resolveParents(input), want, input);
});

test('FileGraph.get finds paths and nothing for malformed ones', () => {
  assert.equal(graph.get('.'), graph.root);
  assert.equal(graph.get('usr/bin/sh')?.name, 'sh');
  assert.equal(graph.get('usr/bin')?.name, 'bin');
  for (const p of ['', 'usr/', '/usr', 'usr//bin', 'etc/passwd/x', 'bin/sh', 'nope'])
    assert.equal(graph.get(p), undefined, p);
});
