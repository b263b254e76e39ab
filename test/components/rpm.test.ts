import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { detectComponents } from '../../src/components/detect.js';
import { parseRpmHeader, readRpmDatabase, readRpmSqlite, sourceRpmName } from '../../src/components/rpm.js';
import { MapTree, type MapTreeEntry } from '../helpers/map-tree.js';
import { assertPartition, sharedFixture } from './assert-partition.js';

const FIXTURE = sharedFixture('rpmdb/cbl-mariner-2.0.rpmdb.sqlite');
const noFixture = FIXTURE === undefined && 'fixture absent';

type Value = { type: 3 | 4 | 5 | 6 | 8; values: (string | number)[] };

/** A header-only blob as rpmdb stores it, for the features the real fixture lacks. */
function header(tags: Record<number, Value>): Buffer {
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let len = 0;
  for (const [tag, v] of Object.entries(tags)) {
    const width = v.type === 3 ? 2 : v.type === 4 ? 4 : v.type === 5 ? 8 : 0;
    if (width > 0 && len % width !== 0) {
      data.push(Buffer.alloc(width - (len % width)));
      len += width - (len % width);
    }
    const body =
      width > 0
        ? Buffer.concat(
            v.values.map((n) => {
              const b = Buffer.alloc(width);
              if (width === 2) b.writeUInt16BE(Number(n));
              else if (width === 4) b.writeUInt32BE(Number(n));
              else b.writeBigUInt64BE(BigInt(n));
              return b;
            }),
          )
        : Buffer.concat(v.values.map((s) => Buffer.from(`${s}\0`, 'latin1')));
    const e = Buffer.alloc(16);
    e.writeInt32BE(Number(tag), 0);
    e.writeInt32BE(v.type, 4);
    e.writeInt32BE(len, 8);
    e.writeInt32BE(v.values.length, 12);
    index.push(e);
    data.push(body);
    len += body.length;
  }
  const head = Buffer.alloc(8);
  head.writeInt32BE(index.length, 0);
  head.writeInt32BE(len, 4);
  return Buffer.concat([head, ...index, ...data]);
}

const str = (s: string): Value => ({ type: 6, values: [s] });
const isUnsupported = (e: unknown): boolean => e instanceof RechunkerError && e.code === 'UNSUPPORTED';

describe('rpm', () => {
  it('derives the source name from SOURCERPM like chunkah does', () => {
    assert.equal(sourceRpmName('curl-7.76.0-6.cm2.src.rpm'), 'curl');
    assert.equal(sourceRpmName('python-dateutil-2.8.2-1.fc40.src.rpm'), 'python-dateutil');
    assert.equal(sourceRpmName('foo-1.0-1.nosrc.rpm'), 'foo');
    assert.equal(sourceRpmName('name-version'), 'name-version');
  });

  it('reads the real CBL-Mariner rpmdb: 129 packages and the known curl facts', { skip: noFixture }, async () => {
    const pkgs = await readRpmSqlite(readFileSync(FIXTURE!), 'fixture');
    assert.equal(pkgs.length, 129);
    const curl = pkgs.find((p) => p.name === 'curl');
    assert.ok(curl);
    assert.equal(curl.version, '7.76.0');
    assert.equal(curl.release, '6.cm2');
    assert.equal(curl.arch, 'x86_64');
    assert.equal(curl.size, 326023);
    assert.equal(curl.sourceRpm, 'curl-7.76.0-6.cm2.src.rpm');
    assert.equal(curl.sourceName, 'curl');
    assert.ok(curl.files.includes('usr/bin/curl'));
    assert.ok(curl.files.every((f) => !f.startsWith('/')));
    assert.ok(curl.changelogTimes.length > 0);
    assert.deepEqual(
      curl.changelogTimes,
      [...curl.changelogTimes].sort((a, b) => b - a),
    );
    // File lists: every package but the file-less meta package has some; directories are gone.
    const withFiles = pkgs.filter((p) => p.files.length > 0);
    assert.equal(withFiles.length, 128);
    assert.equal(
      pkgs.reduce((n, p) => n + p.files.length, 0),
      6298,
      'non-directory entries counted independently with Python',
    );
    assert.ok(!pkgs.some((p) => p.files.includes('usr/bin')));
    assert.deepEqual(
      pkgs
        .filter((p) => p.epoch !== undefined)
        .map((p) => p.name)
        .sort(),
      ['ca-certificates-base', 'ca-certificates-shared', 'ca-certificates-tools'],
    );
  });

  it('makes binary-package components grouped by source rpm from the fixture rpmdb, leaving the db itself to pkgdb', {
    skip: noFixture,
  }, async () => {
    const entries: MapTreeEntry[] = [
      { path: 'usr/lib/sysimage/rpm/rpmdb.sqlite', content: readFileSync(FIXTURE!) },
      { path: 'var/lib/rpm', type: 'symlink', linkname: '../../usr/lib/sysimage/rpm' },
      { path: 'usr/bin/curl', size: 250_000 },
      { path: 'usr/lib/libcurl.so.4.7.0', size: 600_000 },
      { path: 'etc/hostname', content: 'x\n' },
    ];
    const tree = new MapTree(entries);
    const db = await readRpmDatabase(tree);
    assert.equal(db?.path, 'usr/lib/sysimage/rpm/rpmdb.sqlite');
    const { components, warnings } = await detectComponents(tree, {});
    assert.deepEqual(warnings, []);
    assertPartition(tree, components);
    const byPath = new Map(components.flatMap((c) => c.paths.map((p) => [p, c] as const)));
    assert.equal(byPath.get('usr/bin/curl')?.name, 'rpm:curl');
    assert.equal(byPath.get('usr/bin/curl')?.kind, 'rpm');
    assert.equal(byPath.get('usr/bin/curl')?.group, 'rpm:curl');
    // curl-libs is its own binary package, in the same group as curl (both from curl.src.rpm).
    assert.equal(byPath.get('usr/lib/libcurl.so.4.7.0')?.name, 'rpm:curl-libs');
    assert.equal(byPath.get('usr/lib/libcurl.so.4.7.0')?.group, 'rpm:curl');
    assert.equal(byPath.get('usr/lib/sysimage/rpm/rpmdb.sqlite')?.name, 'pkgdb');
    assert.equal(byPath.get('var/lib/rpm')?.name, 'pkgdb');
    assert.equal(byPath.get('etc/hostname')?.name, 'unclaimed');
    const meta = byPath.get('usr/bin/curl')!.meta!;
    assert.equal(meta.source, 'curl');
    assert.ok((meta.changeTimes ?? []).length > 0);
    assert.deepEqual(
      (meta.packages ?? []).map((p) => p.name),
      ['curl'],
    );
  });

  it('decodes OLDFILENAMES, LONGSIZE, EPOCH and skips directories by FILEMODES', () => {
    const pkg = parseRpmHeader(
      header({
        1000: str('old'),
        1001: str('1.0'),
        1002: str('1'),
        1003: { type: 4, values: [2] },
        1022: str('noarch'),
        1006: { type: 4, values: [1700000000] },
        1009: { type: 4, values: [10] },
        5009: { type: 5, values: [2 ** 33] },
        1027: { type: 8, values: ['/usr/share/old', '/usr/share/old/f\xe9'] },
        1030: { type: 3, values: [0o040755, 0o100644] },
        1080: { type: 4, values: [100, 300, 200] },
      }),
    );
    assert.equal(pkg.name, 'old');
    assert.equal(pkg.epoch, 2);
    assert.equal(pkg.size, 2 ** 33);
    assert.equal(pkg.sourceName, 'old', 'no SOURCERPM (gpg-pubkey): the package name');
    assert.deepEqual(pkg.files, ['usr/share/old/f\xe9']);
    assert.deepEqual(pkg.changelogTimes, [300, 200, 100]);
  });

  it('decodes DIRNAMES/BASENAMES/DIRINDEXES', () => {
    const pkg = parseRpmHeader(
      header({
        1000: str('n'),
        1044: str('src-name-1.0-1.src.rpm'),
        1118: { type: 8, values: ['/usr/bin/', '/etc/'] },
        1117: { type: 8, values: ['a', 'b.conf', 'c'] },
        1116: { type: 4, values: [0, 1, 0] },
      }),
    );
    assert.deepEqual(pkg.files, ['usr/bin/a', 'etc/b.conf', 'usr/bin/c']);
    assert.equal(pkg.sourceName, 'src-name');
  });

  it('rejects corrupt headers with UNSUPPORTED', () => {
    const good = header({
      1000: str('n'),
      1117: { type: 8, values: ['a'] },
      1118: { type: 8, values: ['/'] },
      1116: { type: 4, values: [0] },
    });
    assert.doesNotThrow(() => parseRpmHeader(good));
    assert.throws(() => parseRpmHeader(good.subarray(0, 20)), isUnsupported);
    const bigCount = Buffer.from(good);
    bigCount.writeInt32BE(0x7fffffff, 0);
    assert.throws(() => parseRpmHeader(bigCount), isUnsupported);
    const badIndex = header({
      1000: str('n'),
      1117: { type: 8, values: ['a'] },
      1118: { type: 8, values: ['/'] },
      1116: { type: 4, values: [5] },
    });
    assert.throws(() => parseRpmHeader(badIndex), isUnsupported);
    const unterminated = Buffer.from(good);
    unterminated.fill(0x41, unterminated.length - 6);
    assert.throws(() => parseRpmHeader(unterminated), isUnsupported);
    assert.throws(() => parseRpmHeader(header({ 1001: str('no name') })), isUnsupported);
  });

  it('names the database in the error, and detect falls back to unclaimed with a warning', {
    skip: noFixture,
  }, async () => {
    const corrupt = Buffer.from(readFileSync(FIXTURE!));
    corrupt.fill(0xff, 4096, 8192); // page 2: the Packages table's root
    await assert.rejects(
      readRpmSqlite(corrupt, 'var/lib/rpm/rpmdb.sqlite'),
      (e: unknown) =>
        isUnsupported(e) && /^cannot read rpm database var\/lib\/rpm\/rpmdb\.sqlite: /.test((e as Error).message),
    );
    const tree = new MapTree([
      { path: 'var/lib/rpm/rpmdb.sqlite', content: corrupt },
      { path: 'usr/bin/curl', size: 10 },
    ]);
    const { components, warnings } = await detectComponents(tree, {});
    assertPartition(tree, components);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot read rpm database var\/lib\/rpm\/rpmdb\.sqlite/);
    assert.deepEqual(
      components.map((c) => c.name),
      ['pkgdb', 'unclaimed'],
    );
  });

  it('says plainly that Berkeley DB and ndb databases are not supported', async () => {
    const tree = new MapTree([{ path: 'var/lib/rpm/Packages', content: 'bdb' }]);
    await assert.rejects(
      readRpmDatabase(tree),
      (e: unknown) => isUnsupported(e) && /only the sqlite backend/.test((e as Error).message),
    );
  });
});
