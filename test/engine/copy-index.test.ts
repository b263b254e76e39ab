import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyImage } from '../../src/engine/copy.js';
import { openImageSource } from '../../src/engine/open-reference.js';
import { LayoutSink } from '../../src/layout/layout-sink.js';
import { sha256 } from '../../src/oci/digest.js';
import type { Platform } from '../../src/oci/types.js';
import { registryAvailable, startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { makeImage, makeIndex, opener, pullImage, pushImage, type TestImage } from '../helpers/test-image.js';

/** A copy carries what the reference names: a whole multi-platform index by default, as skopeo copy --all. */
const amd64: Platform = { os: 'linux', architecture: 'amd64' };
const arm64: Platform = { os: 'linux', architecture: 'arm64' };

let tmp: string;
let images: TestImage[];
let indexDigest: string;
let src: string;

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-copy-index-'));
  images = [
    makeImage({ layerSizes: [3000, 200], platform: amd64 }),
    makeImage({ layerSizes: [4000], platform: arm64 }),
  ];
  const index = makeIndex([
    { image: images[0]!, platform: amd64 },
    { image: images[1]!, platform: arm64 },
  ]);
  indexDigest = index.desc.digest;
  const sink = new LayoutSink('oci:src', path.join(tmp, 'src'), 'multi');
  for (const img of images) {
    await pushImage(sink, img, { withManifest: false });
    await sink.putManifest(img.manifest.data, img.manifest.desc.mediaType, img.manifest.desc.digest, { child: true });
  }
  await sink.putBlob(index.desc, opener(index));
  await sink.putManifest(index.data, index.desc.mediaType, index.desc.digest);
  src = `oci:${path.join(tmp, 'src')}:multi`;
});
after(() => fs.rm(tmp, { recursive: true, force: true }));

/** Both platforms' images can be read back from `ref`, layer bytes intact. */
async function assertBothPlatforms(ref: string): Promise<void> {
  const source = await openImageSource(ref, { tlsVerify: false });
  try {
    for (const [i, p] of [amd64, arm64].entries()) {
      const { resolved, layers } = await pullImage(source, p);
      assert.equal(resolved.manifestDigest, images[i]!.manifest.desc.digest);
      assert.deepEqual(
        layers.map((l) => sha256(l)),
        images[i]!.layers.map((l) => l.desc.digest),
      );
    }
    assert.equal((await source.readTop!(amd64)).digest, indexDigest, 'the tag names the index');
  } finally {
    await source.close();
  }
}

describe('copy of a multi-platform image', () => {
  it('copy oci: to oci: keeps the index digest and every platform', async () => {
    const dest = `oci:${path.join(tmp, 'layout-out')}:multi`;
    const r = await copyImage({ source: src, destination: dest });
    assert.equal(r.manifestDigest, indexDigest);
    assert.deepEqual(r.platforms.sort(), ['linux/amd64', 'linux/arm64']);
    assert.equal(r.blobs, 5, 'two configs and three layers');
    assert.deepEqual([r.transfer.uploaded, r.transfer.skipped, r.transfer.mounted], [5, 0, 0]);
    await assertBothPlatforms(dest);
    const again = await copyImage({ source: src, destination: dest });
    assert.deepEqual([again.transfer.uploaded, again.transfer.skipped], [0, 5], 'a second copy skips every blob');
  });

  it('copy oci: to oci-archive: keeps the index digest and every platform', async () => {
    const dest = `oci-archive:${path.join(tmp, 'out.tar')}:multi`;
    const r = await copyImage({ source: src, destination: dest });
    assert.equal(r.manifestDigest, indexDigest);
    await assertBothPlatforms(dest);
  });

  it('copy --platform copies only that image, under its own digest', async () => {
    const dest = `oci:${path.join(tmp, 'one')}:arm`;
    const r = await copyImage({ source: src, destination: dest, platform: arm64 });
    assert.equal(r.manifestDigest, images[1]!.manifest.desc.digest);
    assert.equal(r.blobs, 2);
    const source = await openImageSource(dest);
    try {
      assert.equal((await source.readTop!(amd64)).digest, images[1]!.manifest.desc.digest);
    } finally {
      await source.close();
    }
  });

  it('copy --platform of an image built for another platform is a PLATFORM error', async () => {
    const dest = `oci:${path.join(tmp, 'wrong')}:x`;
    const single = `oci:${path.join(tmp, 'one')}:arm`;
    await assert.rejects(
      copyImage({ source: single, destination: dest, platform: amd64 }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'PLATFORM');
        assert.match(e.message, /for linux\/arm64, not linux\/amd64/);
        return true;
      },
    );
    await assert.rejects(fs.access(path.join(tmp, 'wrong')), 'nothing written');
  });

  it('copy oci: to docker:// pushes the children first, the index last, same digest', {
    skip: !registryAvailable() && 'no docker-registry',
  }, async () => {
    let reg: RegistryServer | undefined;
    try {
      reg = await startRegistry();
      const dest = `docker://${reg.host}/multi/os:v1`;
      const r = await copyImage({ source: src, destination: dest, transport: { tlsVerify: false } });
      assert.equal(r.manifestDigest, indexDigest);
      await assertBothPlatforms(dest);
      const back = await copyImage({
        source: dest,
        destination: `oci:${path.join(tmp, 'from-registry')}:m`,
        transport: { tlsVerify: false },
      });
      assert.equal(back.manifestDigest, indexDigest, 'and back again');
      const beside = await copyImage({
        source: dest,
        destination: `docker://${reg.host}/other/os:v1`,
        transport: { tlsVerify: false },
      });
      assert.equal(beside.manifestDigest, indexDigest);
      assert.deepEqual(
        [beside.transfer.mounted, beside.transfer.uploaded],
        [5, 0],
        'within one registry every blob is mounted',
      );
    } finally {
      await reg?.stop();
    }
  });
});
