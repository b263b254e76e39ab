import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { detectComponents } from '../../src/components/detect.js';
import { parseDeb822, readDpkgDatabase, stanzaToPackage } from '../../src/components/dpkg.js';
import type { Component } from '../../src/components/types.js';
import { DirTree } from '../helpers/dir-tree.js';
import { MapTree, type MapTreeEntry } from '../helpers/map-tree.js';
import { assertPartition } from './assert-partition.js';

const STATUS = `Package: libfoo1
Status: install ok installed
Priority: optional
Installed-Size: 120
Architecture: amd64
Multi-Arch: same
Source: foo (1.0-1)
Version: 1.0-1+b1
Description: the foo library
 continued description line
 .
 another paragraph

Package: foo-bin
Status: install ok installed
Architecture: amd64
Source: foo
Version: 1.0-1
Conffiles:
 /etc/foo.conf 0123456789abcdef0123456789abcdef

Package: aaa-other
Status: install ok unpacked
Architecture: all
Version: 2

Package: gone
Status: deinstall ok not-installed
Architecture: amd64
Version: 3

Package: leftover
Status: deinstall ok config-files
Architecture: amd64
Version: 4
`;

function smallTree(): MapTree {
  const entries: MapTreeEntry[] = [
    { path: 'bin', type: 'symlink', linkname: 'usr/bin' },
    { path: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { path: 'var/lib/dpkg/status', content: STATUS },
    { path: 'var/lib/dpkg/status-old', content: STATUS },
    { path: 'var/lib/dpkg/diversions', content: '/usr/bin/sh\n/usr/bin/sh.distrib\naaa-other\n' },
    // Multi-arch: the info files carry the architecture.
    {
      path: 'var/lib/dpkg/info/libfoo1:amd64.list',
      content:
        '/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n/usr/share/doc/libfoo1\n',
    },
    { path: 'var/lib/dpkg/info/libfoo1:amd64.md5sums', content: 'x' },
    { path: 'var/lib/dpkg/info/libfoo1:amd64.triggers', content: 'activate-noawait ldconfig\n' },
    // Merged /usr: listed under /bin and /lib, present under usr/. '/bin' itself is a directory
    // of the package even though the tree has a symlink there. /usr/bin/sh is diverted away.
    {
      path: 'var/lib/dpkg/info/foo-bin.list',
      content: [
        '/.',
        '/bin',
        '/bin/foo',
        '/lib',
        '/lib/systemd',
        '/lib/systemd/system',
        '/lib/systemd/system/foo.service',
        '/usr',
        '/usr/share',
        '/usr/share/shared.txt',
        '/usr/bin',
        '/usr/bin/sh',
        '/etc/foo.conf',
        '/usr/share/missing-file',
        '',
      ].join('\n'),
    },
    { path: 'var/lib/dpkg/info/foo-bin.postinst', content: '#!/bin/sh\n' },
    {
      path: 'var/lib/dpkg/info/aaa-other.list',
      content: '/.\n/usr\n/usr/bin\n/usr/bin/aaa\n/usr/bin/sh\n/usr/share\n/usr/share/shared.txt\n',
    },
    { path: 'var/lib/dpkg/info/leftover.list', content: '/etc\n/etc/leftover.conf\n' },
    { path: 'usr/lib/x86_64-linux-gnu/libfoo.so.1', size: 5000 },
    { path: 'usr/share/doc/libfoo1', type: 'symlink', linkname: 'foo-bin' },
    {
      path: 'usr/share/doc/foo-bin/changelog.Debian.gz',
      content: gzipSync(' -- A <a@b>  Mon, 02 Jan 2023 10:00:00 +0100\n'),
    },
    // One hardlink set across two packages: foo-bin's /bin/foo and aaa-other's /usr/bin/aaa.
    { path: 'usr/bin/foo', content: 'binary', links: ['usr/bin/aaa'] },
    { path: 'usr/bin/aaa' },
    { path: 'usr/bin/sh', content: 'aaa sh' },
    { path: 'usr/bin/sh.distrib', content: 'foo sh' },
    { path: 'usr/lib/systemd/system/foo.service', content: '[Unit]\n' },
    { path: 'usr/share/shared.txt', content: 'both list me' },
    { path: 'etc/foo.conf', content: 'conf' },
    { path: 'etc/leftover.conf', content: 'old conf' },
    { path: 'etc/hostname', content: 'box\n' },
    { path: 'opt/big.bin', size: 2 * 1024 * 1024 },
    { path: 'var/cache/debconf/config.dat', content: 'Name: x\n' },
  ];
  return new MapTree(entries);
}

function ownerOf(components: Component[]): Map<string, string> {
  return new Map(components.flatMap((c) => c.paths.map((p) => [p, c.name] as const)));
}

describe('dpkg', () => {
  it('parses deb822 stanzas with continuation lines and the Source version', () => {
    const stanzas = parseDeb822(STATUS);
    assert.equal(stanzas.length, 5);
    assert.equal(stanzas[0]!.get('description'), 'the foo library\ncontinued description line\n.\nanother paragraph');
    const lib = stanzaToPackage(stanzas[0]!);
    assert.deepEqual(
      {
        name: lib?.name,
        source: lib?.source,
        sourceVersion: lib?.sourceVersion,
        version: lib?.version,
        kib: lib?.installedSizeKiB,
        ma: lib?.multiArch,
      },
      { name: 'libfoo1', source: 'foo', sourceVersion: '1.0-1', version: '1.0-1+b1', kib: 120, ma: 'same' },
    );
    assert.equal(stanzaToPackage(stanzas[2]!)?.source, 'aaa-other');
    assert.equal(stanzaToPackage(stanzas[3]!), undefined, 'not-installed packages own nothing');
    assert.equal(stanzaToPackage(stanzas[4]!)?.state, 'config-files');
  });

  it('reads file lists: multi-arch names, merged /usr, diversions, missing files', async () => {
    const db = await readDpkgDatabase(smallTree());
    assert.ok(db);
    assert.deepEqual(db.warnings, []);
    const paths = Object.fromEntries(db.packages.map((p) => [p.name, p.paths]));
    assert.deepEqual(paths, {
      'aaa-other': ['usr/bin/aaa', 'usr/bin/sh', 'usr/share/shared.txt'],
      'foo-bin': [
        'etc/foo.conf',
        'usr/bin/foo',
        'usr/bin/sh.distrib',
        'usr/lib/systemd/system/foo.service',
        'usr/share/shared.txt',
      ],
      leftover: ['etc/leftover.conf'],
      libfoo1: ['usr/lib/x86_64-linux-gnu/libfoo.so.1', 'usr/share/doc/libfoo1'],
    });
  });

  it('makes one component per binary package, grouped by source package, and applies the precedence rule', async () => {
    const tree = smallTree();
    const { components, warnings } = await detectComponents(tree, {});
    assertPartition(tree, components);
    const owner = ownerOf(components);
    assert.equal(owner.get('usr/lib/x86_64-linux-gnu/libfoo.so.1'), 'deb:libfoo1');
    assert.equal(owner.get('usr/lib/systemd/system/foo.service'), 'deb:foo-bin');
    assert.equal(owner.get('usr/bin/sh.distrib'), 'deb:foo-bin');
    assert.equal(owner.get('usr/bin/sh'), 'deb:aaa-other');
    // Listed by both: the package whose name sorts first wins, and a warning counts it.
    assert.equal(owner.get('usr/share/shared.txt'), 'deb:aaa-other');
    assert.ok(
      warnings.some((w) => /^1 path\(s\) listed by more than one package/.test(w)),
      warnings.join('\n'),
    );
    // The hardlink set stays whole, with the owner of its first path in byte order (usr/bin/aaa).
    assert.equal(owner.get('usr/bin/foo'), 'deb:aaa-other');
    assert.equal(owner.get('usr/bin/aaa'), 'deb:aaa-other');
    assert.ok(
      warnings.some((w) => /^1 hardlink set/.test(w)),
      warnings.join('\n'),
    );
    assert.equal(owner.get('etc/leftover.conf'), 'deb:leftover');
    for (const p of ['var/lib/dpkg/status', 'var/cache/debconf/config.dat']) assert.equal(owner.get(p), 'pkgdb', p);
    // A package's own dpkg files change exactly when it does: they travel with it, multi-arch names too.
    assert.equal(owner.get('var/lib/dpkg/info/libfoo1:amd64.md5sums'), 'deb:libfoo1');
    assert.equal(owner.get('var/lib/dpkg/info/foo-bin.postinst'), 'deb:foo-bin');
    assert.equal(owner.get('var/lib/dpkg/info/aaa-other.list'), 'deb:aaa-other');
    assert.equal(owner.get('opt/big.bin'), 'bigfile:opt/big.bin');
    assert.equal(owner.get('etc/hostname'), 'unclaimed');
    assert.equal(owner.get('bin'), 'unclaimed', "merged-/usr symlinks are no package's file");

    const byName = new Map(components.map((c) => [c.name, c]));
    const lib = byName.get('deb:libfoo1')!;
    const bin = byName.get('deb:foo-bin')!;
    assert.equal(lib.kind, 'deb');
    const infoBytes = (c: { paths: string[] }) =>
      c.paths.filter((p) => p.startsWith('var/lib/dpkg/info/')).reduce((n, p) => n + tree.lookup(p)!.size, 0);
    assert.equal(lib.size, 5000 + infoBytes(lib));
    assert.equal(bin.size, 6 + 7 + 4 + infoBytes(bin));
    // The source package is the grouping key: both binaries of foo, and their change dates.
    for (const c of [lib, bin]) {
      assert.equal(c.group, 'deb:foo');
      assert.equal(c.meta?.source, 'foo');
      assert.deepEqual(
        c.meta?.changeTimes,
        [Date.UTC(2023, 0, 2, 9, 0, 0) / 1000],
        `${c.name}: its doc directory links to foo-bin's`,
      );
    }
    const libPackages = (lib.meta?.packages ?? []).map((p) => `${p.name}:${p.arch}=${p.version}`);
    assert.deepEqual(libPackages, ['libfoo1:amd64=1.0-1+b1']);
    const aaa = byName.get('deb:aaa-other')!;
    assert.equal(aaa.group, 'deb:aaa-other');
    assert.equal(aaa.size, 6 + 6 + 12 + infoBytes(aaa), 'the hardlink set counts once');
  });

  it('qualifies a package installed for two architectures by its architecture', async () => {
    const stanza = (arch: string) =>
      `Package: libbar1\nStatus: install ok installed\nArchitecture: ${arch}\nMulti-Arch: same\nSource: bar\nVersion: 1\n`;
    const tree = new MapTree([
      { path: 'var/lib/dpkg/status', content: `${stanza('amd64')}\n${stanza('i386')}` },
      { path: 'var/lib/dpkg/info/libbar1:amd64.list', content: '/usr/lib/x86_64-linux-gnu/libbar.so.1\n' },
      { path: 'var/lib/dpkg/info/libbar1:i386.list', content: '/usr/lib/i386-linux-gnu/libbar.so.1\n' },
      { path: 'usr/lib/x86_64-linux-gnu/libbar.so.1', content: '64' },
      { path: 'usr/lib/i386-linux-gnu/libbar.so.1', content: '32' },
    ]);
    const { components } = await detectComponents(tree, {});
    const owner = ownerOf(components);
    assert.equal(owner.get('usr/lib/x86_64-linux-gnu/libbar.so.1'), 'deb:libbar1:amd64');
    assert.equal(owner.get('usr/lib/i386-linux-gnu/libbar.so.1'), 'deb:libbar1:i386');
    assert.equal(owner.get('var/lib/dpkg/info/libbar1:i386.list'), 'deb:libbar1:i386');
    assert.deepEqual(
      components.filter((c) => c.kind === 'deb').map((c) => c.group),
      ['deb:bar', 'deb:bar'],
    );
  });

  const CORPUS = '/var/tmp/rechunker-corpus/rootfs/updated';
  it('claims the real Debian 12 corpus tree', {
    skip: !existsSync(`${CORPUS}/var/lib/dpkg/status`) && 'corpus absent',
  }, async (t) => {
    const tree = new DirTree(CORPUS);
    const { components, warnings } = await detectComponents(tree, {});
    assertPartition(tree, components);
    assert.deepEqual(warnings, []);
    const owner = ownerOf(components);
    assert.equal(owner.get('usr/bin/ls'), 'deb:coreutils');
    assert.equal(owner.get('usr/lib/systemd/systemd'), 'deb:systemd', 'listed as /lib/systemd/systemd');
    assert.equal(owner.get('usr/bin/perl'), owner.get('usr/bin/perl5.36.0'));
    assert.equal(owner.get('var/lib/dpkg/status'), 'pkgdb');
    // libgcc-s1's doc directory is a symlink to gcc-12-base's; dates still come through.
    const gcc = components.find((c) => c.name === 'deb:libgcc-s1');
    assert.ok((gcc?.meta?.changeTimes ?? []).length > 0);
    const coreutils = components.find((c) => c.name === 'deb:coreutils')!;
    const times = coreutils.meta?.changeTimes ?? [];
    assert.ok(times.length > 10 && times[0]! > Date.UTC(2020, 0, 1) / 1000);

    const unclaimed = components.find((c) => c.name === 'unclaimed');
    const total = components.reduce((n, c) => n + c.size, 0);
    const files = components.reduce((n, c) => n + c.paths.length, 0);
    const top = [...components]
      .sort((a, b) => b.size - a.size)
      .slice(0, 5)
      .map((c) => `${c.name} ${c.size}`);
    t.diagnostic(
      `${components.length} components, ${files} paths, ${total} bytes; ` +
        `unclaimed ${unclaimed?.paths.length ?? 0} paths, ${unclaimed?.size ?? 0} bytes; largest: ${top.join(', ')}`,
    );
    // Only what maintainer scripts generate is left: alternatives, certificates, /etc, logs.
    assert.ok((unclaimed?.size ?? 0) < total * 0.05);
  });
});
