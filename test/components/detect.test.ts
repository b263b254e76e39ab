import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectComponents } from '../../src/components/detect.js';
import { MapTree } from '../helpers/map-tree.js';
import { assertPartition } from './assert-partition.js';

describe('detectComponents', () => {
  it('sends big unclaimed files alone, keeps unclaimed hardlink sets whole, skips directories', async () => {
    const tree = new MapTree([
      { path: 'srv/model.bin', size: 3_000_000 },
      { path: 'srv/small.txt', size: 10 },
      { path: 'srv/exact', size: 1000 },
      // An unclaimed hardlink set is one unit, named after its first path in byte order.
      { path: 'srv/z-link', size: 2_000_000, links: ['srv/a-link'] },
      { path: 'srv/a-link', size: 2_000_000 },
      { path: 'srv/empty-dir', type: 'dir' },
      { path: 'dev/null', type: 'chardev' },
      { path: 'srv/fifo', type: 'fifo' },
      { path: 'srv/big-link', type: 'symlink', linkname: 'model.bin', size: 0 },
    ]);
    const { components, warnings } = await detectComponents(tree, { bigFileBytes: 1000 });
    assert.deepEqual(warnings, []);
    assertPartition(tree, components);
    assert.deepEqual(
      components.map((c) => [c.name, c.kind, c.paths, c.size]),
      [
        ['bigfile:srv/a-link', 'bigfile', ['srv/a-link', 'srv/z-link'], 2_000_000],
        ['bigfile:srv/exact', 'bigfile', ['srv/exact'], 1000],
        ['bigfile:srv/model.bin', 'bigfile', ['srv/model.bin'], 3_000_000],
        ['unclaimed', 'unclaimed', ['dev/null', 'srv/big-link', 'srv/fifo', 'srv/small.txt'], 10],
      ],
    );
  });

  it('keeps a hardlink set with the first path that has an owner, even over a big-file rule', async () => {
    const tree = new MapTree([
      {
        path: 'var/lib/dpkg/status',
        content: 'Package: z\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n',
      },
      { path: 'var/lib/dpkg/info/z.list', content: '/usr/lib/z/data\n' },
      { path: 'usr/lib/a/data', size: 5_000_000, links: ['usr/lib/z/data'] },
      { path: 'usr/lib/z/data', size: 5_000_000 },
    ]);
    const { components } = await detectComponents(tree, {});
    assertPartition(tree, components);
    const z = components.find((c) => c.name === 'deb:z')!;
    assert.deepEqual(z.paths, ['usr/lib/a/data', 'usr/lib/z/data', 'var/lib/dpkg/info/z.list']);
    assert.equal(z.size, 5_000_000 + '/usr/lib/z/data\n'.length);
  });

  it('keeps package-manager caches in one volatile component of their own and says what they cost', async () => {
    const tree = new MapTree([
      {
        path: 'var/lib/dpkg/status',
        content: 'Package: apt\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2\n',
      },
      { path: 'var/lib/dpkg/info/apt.list', content: '/usr/bin/apt\n/var/cache/apt/archives/lock\n' },
      { path: 'usr/bin/apt', size: 10 },
      { path: 'var/cache/apt/archives/lock', size: 0 },
      { path: 'var/lib/apt/lists/deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages', size: 3_000_000 },
      { path: 'var/cache/apt/pkgcache.bin', size: 2_000_000 },
    ]);
    const { components, warnings } = await detectComponents(tree, {});
    assertPartition(tree, components);
    const cache = components.find((c) => c.name === 'cache')!;
    assert.equal(cache.kind, 'cache');
    // Big files under a cache are not big-file components, and a package's claim on a cache path does not hold.
    assert.deepEqual(cache.paths, [
      'var/cache/apt/archives/lock',
      'var/cache/apt/pkgcache.bin',
      'var/lib/apt/lists/deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages',
    ]);
    assert.match(warnings.join('\n'), /5\.0 MB of package-manager caches \(var\/lib\/apt\/lists, var\/cache\/apt\)/);
  });

  it('returns nothing for an empty tree and is deterministic', async () => {
    assert.deepEqual(await detectComponents(new MapTree([]), {}), { components: [], warnings: [] });
    const make = () =>
      new MapTree([
        { path: 'b', size: 2 },
        { path: 'a/x', size: 3, xattrs: { 'user.component': 'k' } },
      ]);
    assert.deepEqual(await detectComponents(make(), {}), await detectComponents(make(), {}));
  });
});
