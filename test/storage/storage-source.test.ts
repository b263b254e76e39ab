import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setAttribute } from 'fs-xattr';
import { parseReference } from '../../src/ref/image-reference.js';
import { StorageSource } from '../../src/storage/storage-source.js';
import { bigDataFileName, candidateNames } from '../../src/storage/store-index.js';
import { readTar } from '../../src/tar/reader.js';
import { collect, makeTar } from '../helpers/make-tar.js';
import { writeFakeStore } from './fake-store.js';

async function tmp(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-cs-test-'));
}

test('containers-storage references parse as skopeo spells them', () => {
  assert.deepEqual(parseReference('containers-storage:localhost/os:1'), {
    transport: 'containers-storage',
    text: 'containers-storage:localhost/os:1',
    image: 'localhost/os:1',
  });
  const full = parseReference('containers-storage:[overlay@/var/r+/run/rr:overlay.mountopt=x]localhost/os:updated');
  assert.deepEqual(full, {
    transport: 'containers-storage',
    text: full.text,
    store: { driver: 'overlay', root: '/var/r', runroot: '/run/rr' },
    image: 'localhost/os:updated',
  });
  assert.deepEqual((parseReference('containers-storage:[/r]x') as { store: unknown }).store, { root: '/r' });
  assert.throws(() => parseReference('containers-storage:[overlay@rel+/rr]x'), /absolute/);
  assert.throws(() => parseReference('containers-storage:[/r'), /closing/);
  assert.throws(() => parseReference('containers-storage:'), /no image/);
});

test('big-data file names and short names follow containers/storage and podman', () => {
  assert.equal(bigDataFileName('manifest'), 'manifest');
  assert.equal(bigDataFileName('sha256:ab'), '=' + Buffer.from('sha256:ab').toString('base64'));
  assert.deepEqual(candidateNames('os'), ['os:latest', 'localhost/os:latest', 'docker.io/library/os:latest']);
  assert.deepEqual(candidateNames('localhost/os:updated'), ['localhost/os:updated']);
  assert.deepEqual(candidateNames('quay.io:443/a/b'), ['quay.io:443/a/b:latest']);
});

const big = Buffer.alloc(3000, 7);

async function layerTar(): Promise<Buffer> {
  return makeTar([
    { path: 'etc', type: 'dir', mode: 0o755, mtimeSec: 5 },
    { path: 'etc/a', body: 'hello\n', mtimeSec: 9 },
    { path: 'etc/big', body: big, mode: 0o600 },
    { path: 'etc/link', type: 'symlink', linkname: 'a' },
    { path: 'etc/empty', body: '' },
  ]);
}

test('a layer with a tar-split record is rebuilt byte for byte from it and the diff dir', async () => {
  const root = await tmp();
  const tar = await layerTar();
  const { diffIds } = await writeFakeStore(root, 'localhost/os:1', [
    { tar, files: { 'etc/a': 'hello\n', 'etc/big': big, 'etc/empty': '' } },
  ]);
  const src = new StorageSource('cs', root, 'os:1');
  const image = await src.resolve();
  assert.deepEqual(
    image.manifest.layers.map((l) => [l.digest, l.size]),
    [[diffIds[0], tar.length]],
  );
  assert.deepEqual(image.config.config?.Env, ['A=1']);
  assert.equal(image.manifest.config.digest.slice(7), (await src.resolve()).manifest.config.digest.slice(7));
  const rebuilt = await collect(await src.openBlob(image.manifest.layers[0]!));
  assert.ok(rebuilt.equals(tar));
  await fs.rm(root, { recursive: true });
});

test('a diff dir whose file differs from the tar-split record fails, naming the file', async () => {
  const root = await tmp();
  const tar = await layerTar();
  await writeFakeStore(root, 'localhost/os:1', [
    { tar, files: { 'etc/a': 'hello!!\n', 'etc/big': big, 'etc/empty': '' } },
  ]);
  const src = new StorageSource('cs', root, 'localhost/os:1');
  const image = await src.resolve();
  await assert.rejects(
    collect(await src.openBlob(image.manifest.layers[0]!)),
    (e: Error & { code?: string }) => e.code === 'DIGEST_MISMATCH' && /"etc\/a" is 8 bytes/.test(e.message),
  );
  await fs.rm(root, { recursive: true });
});

test('an unknown image is NOT_FOUND and lists what the store holds', async () => {
  const root = await tmp();
  await writeFakeStore(root, 'localhost/os:1', [
    { tar: await layerTar(), files: { 'etc/a': 'hello\n', 'etc/big': big, 'etc/empty': '' } },
  ]);
  await assert.rejects(new StorageSource('cs', root, 'nope').resolve(), /no image "nope".*localhost\/os:1/);
  await assert.rejects(
    new StorageSource('cs', '/nonexistent-store', 'x').resolve(),
    (e: Error & { code?: string }) => e.code === 'NOT_FOUND',
  );
  await fs.rm(root, { recursive: true });
});

test('without tar-split the diff dir is walked: 0/0 devices are whiteouts, opaque dirs get .wh..wh..opq, metacopy is refused', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for mknod and trusted.* xattrs');
  const root = await tmp();
  const tar = await layerTar();
  await writeFakeStore(root, 'localhost/os:1', [{ tar, files: { 'etc/a': 'hello\n', 'opq/x': 'x' }, tarSplit: false }]);
  const diff = await diffDirOf(root);
  execFileSync('mknod', [path.join(diff, 'etc/gone'), 'c', '0', '0']);
  await setAttribute(path.join(diff, 'opq'), 'trusted.overlay.opaque', Buffer.from('y'));
  const src = new StorageSource('cs', root, 'localhost/os:1');
  const image = await src.resolve();
  // The walked tar is not the recorded one, so the config names the walked tar's digest.
  assert.equal(image.config.rootfs.diff_ids[0], image.manifest.layers[0]!.digest);
  assert.notEqual(image.manifest.layers[0]!.digest, (await import('../../src/oci/digest.js')).sha256(tar));
  assert.match(src.notes.join('\n'), /no tar-split record/);
  const paths: string[] = [];
  for await (const item of readTar(await src.openBlob(image.manifest.layers[0]!))) {
    if ('entry' in item) paths.push(item.entry.path);
  }
  assert.deepEqual(paths, ['etc', 'etc/a', 'etc/.wh.gone', 'opq', 'opq/.wh..wh..opq', 'opq/x']);
  await setAttribute(path.join(diff, 'etc/a'), 'trusted.overlay.metacopy', Buffer.alloc(0));
  await assert.rejects(new StorageSource('cs', root, 'localhost/os:1').resolve(), /trusted\.overlay\.metacopy/);
  await fs.rm(root, { recursive: true });
});

async function diffDirOf(root: string): Promise<string> {
  const layers = JSON.parse(await fs.readFile(path.join(root, 'overlay-layers/layers.json'), 'utf8')) as Array<{
    id: string;
  }>;
  return path.join(root, 'overlay', layers[0]!.id, 'diff');
}

test('an overlayfs metacopy entry takes its data from the lower layer (at its redirect)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for trusted.* xattrs');
  const root = await tmp();
  const lower = await makeTar([
    { path: 'etc', type: 'dir' },
    { path: 'etc/a', body: 'hello\n' },
  ]);
  const upper = await makeTar([
    { path: 'etc', type: 'dir' },
    { path: 'etc/a', body: 'hello\n', mode: 0o600 },
    { path: 'etc/b', body: 'hello\n' },
  ]);
  await writeFakeStore(root, 'localhost/os:1', [
    { tar: lower, files: { 'etc/a': 'hello\n' } },
    { tar: upper, files: { 'etc/a': '', 'etc/b': '' } },
  ]);
  const layers = JSON.parse(await fs.readFile(path.join(root, 'overlay-layers/layers.json'), 'utf8')) as Array<{
    id: string;
  }>;
  const diff = path.join(root, 'overlay', layers[1]!.id, 'diff');
  for (const f of ['etc/a', 'etc/b']) {
    await fs.truncate(path.join(diff, f), 6);
    await setAttribute(path.join(diff, f), 'trusted.overlay.metacopy', Buffer.alloc(0));
  }
  await setAttribute(path.join(diff, 'etc/b'), 'trusted.overlay.redirect', Buffer.from('/etc/a'));
  const src = new StorageSource('cs', root, 'localhost/os:1');
  const image = await src.resolve();
  assert.ok((await collect(await src.openBlob(image.manifest.layers[1]!))).equals(upper));
  await fs.rm(root, { recursive: true });
});
