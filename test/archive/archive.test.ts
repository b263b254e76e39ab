import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveSink } from '../../src/archive/archive-sink.js';
import { ArchiveSource } from '../../src/archive/archive-source.js';
import { extractLayout } from '../../src/archive/extract-layout.js';
import { RechunkerError } from '../../src/errors.js';
import { openSink, openSource } from '../../src/engine/open-reference.js';
import { readTar } from '../../src/tar/reader.js';
import { END, rawEntry } from '../helpers/make-tar.js';
import { makeImage, pullImage, pushImage, type TestImage } from '../helpers/test-image.js';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-archive-test-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let n = 0;
const fresh = (name: string) => path.join(tmp, `${n++}-${name}`);

async function writeArchive(file: string, tag: string | undefined, img: TestImage): Promise<void> {
  const sink = new ArchiveSink(`oci-archive:${file}`, file, tag);
  try {
    await pushImage(sink, img);
  } finally {
    await sink.close();
  }
}

async function readBack(file: string, tag?: string): Promise<Awaited<ReturnType<typeof pullImage>>> {
  const source = new ArchiveSource(`oci-archive:${file}`, file, tag);
  try {
    return await pullImage(source);
  } finally {
    await source.close();
  }
}

async function archiveNames(file: string): Promise<string[]> {
  const names: string[] = [];
  for await (const { entry } of readTar((await import('node:fs')).createReadStream(file) as AsyncIterable<Buffer>))
    names.push(entry.path);
  return names;
}

describe('oci-archive sink and source', () => {
  it('round-trips an image, and the same image always gives the same archive bytes', async () => {
    const img = makeImage({ layerSizes: [1000, 300_000] });
    const a = fresh('a.tar');
    const b = fresh('b.tar');
    await writeArchive(a, 'v1', img);
    await writeArchive(b, 'v1', img);
    assert.deepEqual(await fs.readFile(a), await fs.readFile(b));
    const back = await readBack(a, 'v1');
    assert.equal(back.resolved.manifestDigest, img.manifest.desc.digest);
    assert.deepEqual(
      back.layers,
      img.layers.map((l) => l.data),
    );
    const names = await archiveNames(a);
    assert.deepEqual(names, [...names].sort(), 'entries in byte order');
    assert.deepEqual(names.slice(0, 2), ['blobs', 'blobs/sha256']);
    assert.deepEqual(names.slice(-2), ['index.json', 'oci-layout']);
    assert.equal(names.length, 2 + 2 + 4, 'two dirs, two layout files, four blobs');
  });

  it('adds a tag to an existing archive, keeping its other images, and drops what only a replaced tag used', async () => {
    const file = fresh('multi.tar');
    const shared = makeImage({ layerSizes: [2000] }).layers[0]!;
    const one = makeImage({ layerSizes: [], layers: [shared] });
    const two = makeImage({ layerSizes: [500] });
    await writeArchive(file, 'one', one);
    await writeArchive(file, 'two', two);
    assert.equal((await readBack(file, 'one')).resolved.manifestDigest, one.manifest.desc.digest);
    assert.equal((await readBack(file, 'two')).resolved.manifestDigest, two.manifest.desc.digest);

    // Replace "two" with an image sharing a layer with "one": two's old blobs go, shared stays.
    const three = makeImage({ layerSizes: [], layers: [shared, makeImage({ layerSizes: [700] }).layers[0]!] });
    await writeArchive(file, 'two', three);
    const names = new Set(await archiveNames(file));
    for (const b of [two.manifest, two.config, ...two.layers])
      assert.ok(!names.has(`blobs/sha256/${b.desc.digest.slice(7)}`), `old blob ${b.desc.digest} dropped`);
    for (const b of [one.manifest, one.config, shared])
      assert.ok(names.has(`blobs/sha256/${b.desc.digest.slice(7)}`), `blob ${b.desc.digest} kept`);
    assert.equal((await readBack(file, 'one')).resolved.manifestDigest, one.manifest.desc.digest);
    assert.equal((await readBack(file, 'two')).resolved.manifestDigest, three.manifest.desc.digest);
  });

  it('leaves the previous archive whole when a run stops before the manifest', async () => {
    const file = fresh('keep.tar');
    await writeArchive(file, 'v1', makeImage({ layerSizes: [100] }));
    const before = await fs.readFile(file);
    const sink = new ArchiveSink(`oci-archive:${file}`, file, 'v1');
    await pushImage(sink, makeImage({ layerSizes: [200] }), { withManifest: false });
    await sink.close();
    assert.deepEqual(await fs.readFile(file), before);
    assert.deepEqual(
      (await fs.readdir(path.dirname(file))).filter((f) => f.startsWith(path.basename(file))),
      [path.basename(file)],
      'no temp file left beside it',
    );
  });

  it('refuses to overwrite a file that is not an OCI archive, and leaves it alone', async () => {
    const file = fresh('notes.txt');
    await fs.writeFile(file, 'precious, not a tar\n'.repeat(100));
    const sink = new ArchiveSink(`oci-archive:${file}`, file, 'v1');
    await assert.rejects(
      pushImage(sink, makeImage({ layerSizes: [10] })),
      (e: unknown) => e instanceof RechunkerError && /exists and is not an OCI archive/.test(e.message),
    );
    await sink.close();
    assert.equal(await fs.readFile(file, 'utf8'), 'precious, not a tar\n'.repeat(100));
  });

  it('is what open.ts picks for oci-archive: references; rootfs: is a source only', async () => {
    assert.ok((await openSource('oci-archive:/x.tar:t')) instanceof ArchiveSource);
    assert.ok((await openSink('oci-archive:/x.tar:t')) instanceof ArchiveSink);
    await assert.rejects(
      openSink('rootfs:/tmp/x'),
      (e: unknown) => e instanceof RechunkerError && e.code === 'UNSUPPORTED' && /source only/.test(e.message),
    );
  });

  it('names a missing archive', async () => {
    const file = fresh('missing.tar');
    await assert.rejects(
      readBack(file),
      (e: unknown) => e instanceof RechunkerError && e.code === 'NOT_FOUND' && e.message.includes(file),
    );
  });
});

describe('hostile archives', () => {
  const hex = 'a'.repeat(64);
  const ABSOLUTE = `/tmp/rechunker-hostile-${process.pid}`;
  const layoutStart = () => [
    rawEntry({ name: 'oci-layout' }, Buffer.from('{"imageLayoutVersion":"1.0.0"}')),
    rawEntry({ name: 'index.json' }, Buffer.from('{"schemaVersion":2,"manifests":[]}')),
  ];
  const cases: Array<{ name: string; entries: Buffer[]; code: string; mention: RegExp }> = [
    {
      name: 'an entry ../x',
      entries: [rawEntry({ name: '../x' }, Buffer.from('escaped'))],
      code: 'UNSAFE_PATH',
      mention: /unsafe path "\.\.\/x"/,
    },
    {
      name: 'a blob path through ..',
      entries: [rawEntry({ name: `blobs/sha256/../../../x` }, Buffer.from('escaped'))],
      code: 'UNSAFE_PATH',
      mention: /unsafe path/,
    },
    {
      name: 'an absolute entry',
      entries: [rawEntry({ name: ABSOLUTE }, Buffer.from('escaped'))],
      code: 'UNSAFE_PATH',
      mention: /unsafe path "\/tmp\/rechunker-hostile-/,
    },
    {
      name: 'a symlink entry',
      entries: [rawEntry({ name: `blobs/sha256/${hex}`, typeflag: '2', linkname: '/etc/passwd' })],
      code: 'UNSAFE_PATH',
      mention: /is a symlink/,
    },
    {
      name: 'a hardlink entry',
      entries: [rawEntry({ name: 'index.json', typeflag: '1', linkname: 'oci-layout' })],
      code: 'UNSAFE_PATH',
      mention: /is a hardlink/,
    },
    {
      name: 'a blob name that is not a digest',
      entries: [rawEntry({ name: 'blobs/sha256/passwd' }, Buffer.from('x'))],
      code: 'BAD_TAR',
      mention: /"blobs\/sha256\/passwd" is not a blob name/,
    },
    { name: 'no index.json', entries: [], code: 'BAD_MANIFEST', mention: /no index\.json/ },
  ];

  for (const c of cases) {
    it(`refuses ${c.name} in one line, and writes nothing outside its temp dir`, async () => {
      const jail = fresh('jail');
      const inner = path.join(jail, 'inner');
      await fs.mkdir(inner, { recursive: true });
      const file = path.join(jail, 'hostile.tar');
      const entries =
        c.name === 'no index.json'
          ? [rawEntry({ name: 'oci-layout' }, Buffer.from('{}'))]
          : [...layoutStart(), ...c.entries];
      await fs.writeFile(file, Buffer.concat([...entries, END]));
      const source = new ArchiveSource(`oci-archive:${file}:t`, file, 't', inner);
      await assert.rejects(source.resolve({ os: 'linux', architecture: 'amd64' }), (e: unknown) => {
        assert.ok(e instanceof RechunkerError, String(e));
        assert.equal(e.code, c.code, e.message);
        assert.match(e.message, c.mention);
        assert.ok(!e.message.includes('\n'), 'one line');
        assert.ok(e.message.includes(file), `names the archive: ${e.message}`);
        return true;
      });
      assert.deepEqual(await fs.readdir(inner), [], 'the temp dir is gone as soon as extraction fails');
      await source.close();
      assert.deepEqual((await fs.readdir(jail)).sort(), ['hostile.tar', 'inner']);
      await assert.rejects(fs.access(path.join(tmp, 'x')));
      await assert.rejects(fs.access(ABSOLUTE));
    });
  }

  it('ignores names that are not part of a layout, and accepts ./-prefixed ones', async () => {
    const dir = fresh('extract');
    await fs.mkdir(dir);
    const file = fresh('extra.tar');
    await fs.writeFile(
      file,
      Buffer.concat([
        rawEntry({ name: './', typeflag: '5' }),
        rawEntry({ name: './oci-layout' }, Buffer.from('{"imageLayoutVersion":"1.0.0"}')),
        rawEntry({ name: './index.json' }, Buffer.from('{"schemaVersion":2,"manifests":[]}')),
        rawEntry({ name: 'README' }, Buffer.from('hello')),
        rawEntry({ name: 'other/dir/file' }, Buffer.from('hello')),
        rawEntry({ name: `./blobs/sha256/${hex}` }, Buffer.from('blob')),
        END,
      ]),
    );
    const r = await extractLayout(file, dir);
    assert.deepEqual(r.ignored, ['README', 'other/dir/file']);
    assert.equal(r.blobs, 1);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
    assert.equal(await fs.readFile(path.join(dir, 'blobs', 'sha256', hex), 'utf8'), 'blob');
  });
});
