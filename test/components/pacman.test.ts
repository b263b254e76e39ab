import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detectComponents } from '../../src/components/detect.js';
import { pacmanConfDbPath, parseAlpmSections, readPacmanDatabase } from '../../src/components/pacman.js';
import { DirTree } from '../helpers/dir-tree.js';
import { MapTree } from '../helpers/map-tree.js';
import { assertPartition } from './assert-partition.js';

function hasPacman(): boolean {
  try {
    execFileSync('pacman', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const noPacman = !hasPacman() && 'pacman not installed (Debian: apt-get install pacman-package-manager)';

interface Pkg {
  name: string;
  base?: string;
  version: string;
  builddate: number;
  files: Record<string, string>;
}

/**
 * A package as makepkg writes one (a tar with .PKGINFO first), made by hand: makepkg refuses to
 * run as root. The database under test is still the one real pacman writes when it installs it.
 */
function buildPackage(dir: string, p: Pkg): string {
  const root = mkdtempSync(join(dir, 'pkg-'));
  const info = [
    `pkgname = ${p.name}`,
    ...(p.base === undefined ? [] : [`pkgbase = ${p.base}`]),
    `pkgver = ${p.version}`,
    'pkgdesc = rechunker test package',
    `builddate = ${p.builddate}`,
    'packager = rechunker tests',
    `size = ${Object.values(p.files).reduce((n, c) => n + c.length, 0)}`,
    'arch = any',
    'license = MIT',
  ];
  writeFileSync(join(root, '.PKGINFO'), `${info.join('\n')}\n`);
  for (const [path, content] of Object.entries(p.files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
    if (path.includes('/bin/')) chmodSync(join(root, path), 0o755);
  }
  const out = join(dir, `${p.name}-${p.version}-any.pkg.tar.gz`);
  const top = readdirSync(root).filter((n) => n !== '.PKGINFO');
  execFileSync('tar', ['--owner=0', '--group=0', '-czf', out, '-C', root, '.PKGINFO', ...top]);
  return out;
}

function pacmanInstall(root: string, dbpath: string, pkgs: string[]): void {
  mkdirSync(dbpath, { recursive: true });
  // --config /dev/null: no repositories, no keyring; a local file needs neither.
  const args = ['-U', '--noconfirm', '--nodeps', '--config', '/dev/null', '--root', root, '--dbpath', dbpath];
  execFileSync('pacman', [...args, ...pkgs], { stdio: 'pipe' });
}

describe('pacman claims', () => {
  it('parses ALPM sections and pacman.conf DBPath as chunkah does', () => {
    const desc = parseAlpmSections('%NAME%\nfs\n\n%BASE%\nfs\n\n%BUILDDATE%\n1760286101\n\n%DEPENDS%\na\nb\n');
    assert.deepEqual(
      [...desc],
      [
        ['NAME', ['fs']],
        ['BASE', ['fs']],
        ['BUILDDATE', ['1760286101']],
        ['DEPENDS', ['a', 'b']],
      ],
    );
    const files = parseAlpmSections('%FILES%\netc/\netc/services\n\n%BACKUP%\netc/services\tb80b\n');
    assert.deepEqual(files.get('FILES'), ['etc/', 'etc/services']);
    const conf = '[options]\n#DBPath = /invalid\nDBPathInvalid = /x\n  DBPath = /srv/pac/ \n';
    assert.equal(pacmanConfDbPath(conf), 'srv/pac');
    assert.equal(pacmanConfDbPath('[options]\n#DBPath = /x\n'), undefined);
  });

  it('warns about a package entry without %NAME% and leaves its files unclaimed', async () => {
    const tree = new MapTree([
      { path: 'var/lib/pacman/local/broken-1-1/desc', content: '%VERSION%\n1-1\n' },
      { path: 'var/lib/pacman/local/broken-1-1/files', content: '%FILES%\nusr/bin/x\n' },
      { path: 'usr/bin/x', size: 3 },
    ]);
    const { components, warnings } = await detectComponents(tree, {});
    assertPartition(tree, components);
    assert.deepEqual(warnings, [
      "pacman: no %NAME% in var/lib/pacman/local/broken-1-1/desc; that package's files are treated as unclaimed",
    ]);
    assert.deepEqual(
      components.map((c) => [c.name, c.paths]),
      [
        ['pkgdb', ['var/lib/pacman/local/broken-1-1/desc', 'var/lib/pacman/local/broken-1-1/files']],
        ['unclaimed', ['usr/bin/x']],
      ],
    );
  });

  describe('on a database written by pacman -U', { skip: noPacman }, () => {
    let dir = '';
    let root = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'rechunker-pacman-'));
      root = join(dir, 'root');
      const hello = { base: 'hello', version: '1.0-1', builddate: 1_700_000_000 };
      const v1: Pkg[] = [
        { ...hello, name: 'hello-bin', files: { 'usr/bin/hello': '#!/bin/sh\necho hi\n' } },
        { ...hello, name: 'hello-data', files: { 'usr/share/hello/greeting': 'hi\n' } },
        {
          name: 'solo',
          version: '2.3-4',
          builddate: 1_690_000_000,
          files: { 'usr/lib/solo/x.so': 'e', 'etc/solo.conf': 'x' },
        },
      ];
      pacmanInstall(
        root,
        join(root, 'var/lib/pacman'),
        v1.map((p) => buildPackage(dir, p)),
      );
      // An upgrade, so the database is also what pacman leaves after replacing an entry.
      const v2 = { ...v1[1]!, version: '1.1-1', builddate: 1_710_000_000 };
      v2.files = { 'usr/share/hello/greeting': 'hello\n' };
      pacmanInstall(root, join(root, 'var/lib/pacman'), [buildPackage(dir, v2)]);
      writeFileSync(join(root, 'etc/hostname'), 'box\n');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reads every installed package with its base, version and build date', async () => {
      const db = await readPacmanDatabase(new DirTree(root));
      assert.equal(db?.dir, 'var/lib/pacman/local');
      assert.deepEqual(db.warnings, []);
      assert.deepEqual(
        db.packages.map((p) => [p.name, p.base, p.version, p.buildDate, p.files]),
        [
          ['hello-bin', 'hello', '1.0-1', 1_700_000_000, ['usr/bin/hello']],
          ['hello-data', 'hello', '1.1-1', 1_710_000_000, ['usr/share/hello/greeting']],
          ['solo', 'solo', '2.3-4', 1_690_000_000, ['etc/solo.conf', 'usr/lib/solo/x.so']],
        ],
      );
    });

    it('makes pacman:NAME components grouped by %BASE%, dated by %BUILDDATE%, the database apart', async () => {
      const tree = new DirTree(root);
      const { components, warnings } = await detectComponents(tree, {});
      assert.deepEqual(warnings, []);
      assertPartition(tree, components);
      const byName = new Map(components.map((c) => [c.name, c]));
      assert.deepEqual(
        components.filter((c) => c.kind === 'pacman').map((c) => [c.name, c.group, c.paths]),
        [
          ['pacman:hello-bin', 'pacman:hello', ['usr/bin/hello']],
          ['pacman:hello-data', 'pacman:hello', ['usr/share/hello/greeting']],
          ['pacman:solo', 'pacman:solo', ['etc/solo.conf', 'usr/lib/solo/x.so']],
        ],
      );
      const data = byName.get('pacman:hello-data')!;
      assert.equal(data.meta?.source, 'hello');
      assert.deepEqual(data.meta?.changeTimes, [1_710_000_000]);
      assert.equal(data.meta?.packages?.[0]?.version, '1.1-1');
      assert.equal(data.size, 'hello\n'.length);
      const pkgdb = byName.get('pkgdb')!;
      assert.ok(pkgdb.paths.includes('var/lib/pacman/local/hello-data-1.1-1/desc'));
      assert.ok(pkgdb.paths.every((p) => p.startsWith('var/lib/pacman/local/')));
      assert.ok(!pkgdb.paths.some((p) => p.includes('hello-data-1.0-1')), 'the upgrade replaced the old entry');
      assert.deepEqual(byName.get('unclaimed')?.paths, ['etc/hostname']);
    });

    it('finds a database where pacman.conf DBPath says', async () => {
      const custom = join(dir, 'custom');
      mkdirSync(join(custom, 'etc'), { recursive: true });
      writeFileSync(join(custom, 'etc/pacman.conf'), '[options]\nDBPath = /srv/pacman/\n');
      const pkg = { name: 'solo', version: '1-1', builddate: 1_600_000_000, files: { 'opt/solo/run': 'x' } };
      pacmanInstall(custom, join(custom, 'srv/pacman'), [buildPackage(dir, pkg)]);
      const tree = new DirTree(custom);
      const { components } = await detectComponents(tree, {});
      assertPartition(tree, components);
      assert.deepEqual(components.find((c) => c.name === 'pacman:solo')?.paths, ['opt/solo/run']);
      assert.ok(components.find((c) => c.name === 'pkgdb')!.paths.every((p) => p.startsWith('srv/pacman/local/')));
    });
  });
});
