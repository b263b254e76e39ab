import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import {
  changelogDates,
  debianChangeTimes,
  followInTree,
  joinInTree,
  parseTrailerDate,
} from '../../src/components/changelog.js';
import { MapTree } from '../helpers/map-tree.js';

const CHANGELOG = `foo (1.2-1) unstable; urgency=medium

  * New upstream release.

 -- Jane Doe 2nd <jane@example.org>  Tue, 07 Mar 2023 14:05:09 -0500

foo (1.1-1) unstable; urgency=low

  * Initial release.
 -- not a trailer: no leading space before the dashes
 -- Jane Doe <jane@example.org>  Sun, 1 Jan 2023 00:00:00 +0000
 -- Jane Doe <jane@example.org>  Sun, 1 Jan 2023 00:00:00 +0000
`;

describe('Debian changelog dates', () => {
  it('parses trailer dates with their time zone', () => {
    assert.equal(parseTrailerDate('Tue, 07 Mar 2023 14:05:09 -0500'), Date.UTC(2023, 2, 7, 19, 5, 9) / 1000);
    assert.equal(parseTrailerDate('Sun, 1 Jan 2023 00:00:00 +0000'), Date.UTC(2023, 0, 1) / 1000);
    assert.equal(parseTrailerDate('no date here'), undefined);
  });

  it('lists entry dates newest first, once each', () => {
    assert.deepEqual(changelogDates(CHANGELOG), [Date.UTC(2023, 2, 7, 19, 5, 9) / 1000, Date.UTC(2023, 0, 1) / 1000]);
  });

  it('keeps symlink targets inside the tree', () => {
    assert.equal(joinInTree('usr/share/doc', '../../../../../etc/passwd'), 'etc/passwd');
    assert.equal(joinInTree('usr/share/doc', '/usr/lib/x'), 'usr/lib/x');
    assert.equal(joinInTree('usr/share/doc', './b/../c'), 'usr/share/doc/c');
  });

  it('follows doc-directory and file symlinks inside the tree, and stops on loops', async () => {
    const gz = gzipSync(CHANGELOG);
    const tree = new MapTree([
      { path: 'usr/share/doc/foo/changelog.Debian.gz', content: gz },
      { path: 'usr/share/doc/libfoo1', type: 'symlink', linkname: 'foo' },
      {
        path: 'usr/share/doc/foo-abs/changelog.Debian.gz',
        type: 'symlink',
        linkname: '/usr/share/doc/foo/changelog.Debian.gz',
      },
      {
        path: 'usr/share/doc/native/changelog.gz',
        content: gzipSync(' -- X <x@y>  Mon, 02 Jan 2023 00:00:00 +0000\n'),
      },
      { path: 'usr/share/doc/loop/changelog.Debian.gz', type: 'symlink', linkname: 'changelog.Debian.gz' },
      { path: 'usr/share/doc/escape/changelog.Debian.gz', type: 'symlink', linkname: '../../../../../../tmp/x.gz' },
      { path: 'usr/share/doc/broken/changelog.Debian.gz', content: 'not gzip' },
    ]);
    const want = [Date.UTC(2023, 2, 7, 19, 5, 9) / 1000, Date.UTC(2023, 0, 1) / 1000];
    assert.deepEqual(await debianChangeTimes(tree, 'foo'), want);
    assert.deepEqual(await debianChangeTimes(tree, 'libfoo1'), want);
    assert.deepEqual(await debianChangeTimes(tree, 'foo-abs'), want);
    assert.deepEqual(await debianChangeTimes(tree, 'native'), [Date.UTC(2023, 0, 2) / 1000]);
    assert.deepEqual(await debianChangeTimes(tree, 'loop'), []);
    assert.equal(
      followInTree(tree, 'usr/share/doc/escape/changelog.Debian.gz'),
      undefined,
      'resolves to tmp/x.gz in the tree, which is absent',
    );
    assert.deepEqual(await debianChangeTimes(tree, 'broken'), []);
    assert.deepEqual(await debianChangeTimes(tree, 'absent'), []);
  });
});
