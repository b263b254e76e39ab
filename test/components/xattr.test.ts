import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectComponents } from '../../src/components/detect.js';
import { xattrFacts } from '../../src/components/xattr.js';
import { MapTree } from '../helpers/map-tree.js';
import { assertPartition } from './assert-partition.js';

const C = 'user.component';
const U = 'user.update-interval';

function tree(): MapTree {
  return new MapTree([
    { path: 'opt/a', type: 'dir', xattrs: { [C]: 'compA', [U]: '30' } },
    { path: 'opt/a/file' },
    { path: 'opt/a/special', xattrs: { [C]: 'compS\0' } },
    { path: 'opt/a/b', type: 'dir', xattrs: { [C]: 'compB' } },
    { path: 'opt/a/b/c/deep', xattrs: { [U]: '1' } },
    { path: 'opt/a/b/link', type: 'symlink', linkname: '../file' },
    // 'opt/a-x' sorts between 'opt/a' and 'opt/a/...': must not inherit from opt/a.
    { path: 'opt/a-x' },
    { path: 'opt/x', type: 'dir', xattrs: { [C]: 'compX' } },
    { path: 'opt/x/file' },
    { path: 'opt/plain' },
    { path: 'opt/empty', xattrs: { [C]: '' } },
    { path: 'usr/bin/tool', xattrs: { [C]: 'tools' } },
    // A file claimed by a package too: the xattr (explicit) wins.
    {
      path: 'var/lib/dpkg/status',
      content: 'Package: p\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n',
    },
    { path: 'var/lib/dpkg/info/p.list', content: '/usr/bin/tool\n/usr/bin/ptool\n' },
    { path: 'usr/bin/ptool' },
  ]);
}

describe('user.component xattr', () => {
  it('gives a path its own value, else the nearest ancestor directory value', () => {
    const facts = xattrFacts(tree());
    assert.deepEqual(facts.get('opt/a/file'), { component: 'compA', updateIntervalDays: 30 });
    assert.deepEqual(
      facts.get('opt/a/special'),
      { component: 'compS', updateIntervalDays: 30 },
      'trailing NUL dropped',
    );
    assert.deepEqual(
      facts.get('opt/a/b/c/deep'),
      { component: 'compB', updateIntervalDays: 1 },
      'each attribute inherits on its own',
    );
    assert.deepEqual(facts.get('opt/a/b/link'), { component: 'compB', updateIntervalDays: 30 });
    assert.deepEqual(facts.get('opt/x/file'), { component: 'compX' });
    assert.equal(facts.get('opt/a-x'), undefined);
    assert.equal(facts.get('opt/plain'), undefined);
    assert.equal(facts.get('opt/empty'), undefined, 'an empty value names nothing');
    assert.equal(facts.has('opt/a'), false, 'directories are not reported');
  });

  it('beats package lists, and feeds updateIntervalDays to the component meta', async () => {
    const t = tree();
    const { components } = await detectComponents(t, {});
    assertPartition(t, components);
    const byName = new Map(components.map((c) => [c.name, c]));
    assert.deepEqual(byName.get('xattr:compA')?.paths, ['opt/a/file']);
    assert.deepEqual(byName.get('xattr:compB')?.paths, ['opt/a/b/c/deep', 'opt/a/b/link']);
    assert.equal(byName.get('xattr:compB')?.meta?.updateIntervalDays, 1, 'the most frequent interval of its files');
    assert.equal(byName.get('xattr:compB')?.kind, 'xattr');
    assert.equal(byName.get('xattr:compB')?.meta?.value, 'compB');
    assert.deepEqual(byName.get('xattr:tools')?.paths, ['usr/bin/tool']);
    assert.deepEqual(byName.get('deb:p')?.paths, ['usr/bin/ptool', 'var/lib/dpkg/info/p.list']);
    assert.deepEqual(byName.get('unclaimed')?.paths, ['opt/a-x', 'opt/empty', 'opt/plain']);
  });
});
