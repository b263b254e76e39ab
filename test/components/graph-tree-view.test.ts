import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphTreeView } from '../../src/components/graph-tree-view.js';
import type { ContentStore } from '../../src/graph/content-store.js';
import { graphOf } from '../helpers/graph-of.js';

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
