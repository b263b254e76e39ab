import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { sha256 } from '../../src/oci/digest.js';
import {
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  resolveFromDescriptor,
  resolveImage,
  type ReadSmallBlob,
} from '../../src/oci/resolve.js';
import { MediaType, type Descriptor, type Index } from '../../src/oci/types.js';
import { blob, makeImage, makeIndex, type Blob } from '../helpers/test-image.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

/** An in-memory blob store that records what was read, and how. */
function store(blobs: Blob[]): { read: ReadSmallBlob; reads: string[] } {
  const byDigest = new Map(blobs.map((b) => [b.desc.digest, b.data]));
  const reads: string[] = [];
  const read: ReadSmallBlob = async (desc, limit, kind) => {
    reads.push(`${kind} ${desc.digest} ${limit}`);
    const data = byDigest.get(desc.digest);
    if (!data) throw new RechunkerError('NOT_FOUND', `${kind} ${desc.digest} is missing`);
    return data;
  };
  return { read, reads };
}

function indexOf(entries: Descriptor[]): Blob {
  const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: entries };
  return blob(Buffer.from(JSON.stringify(index)), MediaType.OciIndex);
}

const code = (c: string, pattern: RegExp) => (e: unknown) =>
  e instanceof RechunkerError && e.code === c && pattern.test(e.message);

describe('resolveFromDescriptor (blobs by descriptor, as in a layout)', () => {
  it('follows an index to the platform image, reading manifests and configs with their own limits', async () => {
    const amd = makeImage({ layerSizes: [10], platform: amd64 });
    const arm = makeImage({ layerSizes: [20, 30], platform: arm64 });
    const index = makeIndex([
      { image: amd, platform: amd64 },
      { image: arm, platform: arm64 },
    ]);
    const { read, reads } = store([index, amd.manifest, amd.config, arm.manifest, arm.config]);
    const r = await resolveFromDescriptor(index.desc, read, { os: 'linux', architecture: 'aarch64' }, 'oci:x');
    assert.equal(r.manifestDigest, arm.manifest.desc.digest);
    assert.ok(r.manifestBytes.equals(arm.manifest.data));
    assert.ok(r.configBytes.equals(arm.config.data));
    assert.equal(r.manifest.layers.length, 2);
    assert.deepEqual(reads, [
      `manifest ${index.desc.digest} ${MAX_MANIFEST_BYTES}`,
      `manifest ${arm.manifest.desc.digest} ${MAX_MANIFEST_BYTES}`,
      `config ${arm.config.desc.digest} ${MAX_CONFIG_BYTES}`,
    ]);
  });

  it('takes a descriptor without a media type (a bare digest) from the content', async () => {
    const img = makeImage({ layerSizes: [5] });
    const untyped = makeImage({ layerSizes: [5] });
    const bare = {
      ...untyped,
      manifest: blob(
        Buffer.from(
          JSON.stringify({ schemaVersion: 2, config: untyped.config.desc, layers: untyped.layers.map((l) => l.desc) }),
        ),
        '',
      ),
    };
    const { read } = store([img.manifest, img.config, bare.manifest, bare.config]);
    assert.equal(
      (await resolveFromDescriptor({ ...img.manifest.desc, mediaType: '' }, read, amd64, 'w')).manifestDigest,
      img.manifest.desc.digest,
    );
    assert.equal(
      (await resolveFromDescriptor(bare.manifest.desc, read, amd64, 'w')).manifestDigest,
      bare.manifest.desc.digest,
    );
  });

  it('refuses oversized manifests and configs before reading them', async () => {
    const { read, reads } = store([]);
    const huge = { mediaType: MediaType.OciManifest, digest: sha256('x'), size: MAX_MANIFEST_BYTES + 1 };
    await assert.rejects(
      resolveFromDescriptor(huge, read, amd64, 'oci:x'),
      code(
        'BAD_MANIFEST',
        new RegExp(`^oci:x: manifest ${huge.digest} is ${huge.size} bytes, over the ${MAX_MANIFEST_BYTES} byte limit$`),
      ),
    );
    const img = makeImage({ layerSizes: [1] });
    const bigConfig = { ...img.config.desc, size: MAX_CONFIG_BYTES + 1 };
    const m = blob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          config: bigConfig,
          layers: img.layers.map((l) => l.desc),
        }),
      ),
      MediaType.OciManifest,
    );
    const s = store([m]);
    await assert.rejects(
      resolveFromDescriptor(m.desc, s.read, amd64, 'oci:x'),
      code('BAD_MANIFEST', /^oci:x: config sha256:\w+ is \d+ bytes, over the \d+ byte limit$/),
    );
    assert.deepEqual(reads, []);
    assert.equal(s.reads.length, 1);
  });
});

describe('resolveImage (a manifest in hand, nested ones fetched)', () => {
  const top = (b: Blob, mediaType?: string) => ({
    bytes: b.data,
    digest: b.desc.digest,
    ...(mediaType !== undefined ? { mediaType } : {}),
  });

  it('starts from the bytes given, with the media type a registry answered', async () => {
    const img = makeImage({ layerSizes: [1] });
    const { read } = store([img.config]);
    const fetchManifest = async (): Promise<Buffer> => assert.fail('no nested manifest to fetch');
    for (const mediaType of [MediaType.OciManifest, 'application/json', undefined]) {
      const r = await resolveImage(
        top(img.manifest, mediaType),
        fetchManifest,
        (d, limit) => read(d, limit, 'config'),
        amd64,
        'docker://reg/app:1',
      );
      assert.equal(r.manifestDigest, img.manifest.desc.digest);
    }
  });

  it('checks a nested manifest against the size and digest of its index entry', async () => {
    const img = makeImage({ layerSizes: [1] });
    const index = makeIndex([{ image: img, platform: amd64 }]);
    const { read } = store([img.config]);
    const readConfig = (d: Descriptor, limit: number) => read(d, limit, 'config');
    const padded = Buffer.concat([img.manifest.data, Buffer.from(' ')]);
    await assert.rejects(
      resolveImage(top(index), async () => padded, readConfig, amd64, 'docker://reg/app:1'),
      code(
        'SIZE_MISMATCH',
        new RegExp(
          `^docker://reg/app:1: manifest ${img.manifest.desc.digest}: ${padded.length} bytes, the index says ${img.manifest.desc.size}$`,
        ),
      ),
    );
    const other = Buffer.from(img.manifest.data).fill(0x20, 0, 1);
    await assert.rejects(
      resolveImage(top(index), async () => other, readConfig, amd64, 'docker://reg/app:1'),
      code('DIGEST_MISMATCH', /content hashes to sha256:/),
    );
    const fetched: string[] = [];
    const r = await resolveImage(
      top(index),
      async (d) => (fetched.push(d.digest), img.manifest.data),
      readConfig,
      amd64,
      'docker://reg/app:1',
    );
    assert.equal(r.manifestDigest, img.manifest.desc.digest);
    assert.deepEqual(fetched, [img.manifest.desc.digest]);
  });

  it('names the platforms on offer when none fits', async () => {
    const img = makeImage({ layerSizes: [1] });
    const index = makeIndex([{ image: img, platform: arm64 }]);
    await assert.rejects(
      resolveImage(
        top(index),
        async () => img.manifest.data,
        async () => img.config.data,
        amd64,
        'docker://reg/app:1',
      ),
      code('PLATFORM', /^docker:\/\/reg\/app:1: no image for platform linux\/amd64 \(available: linux\/arm64\/v8\)/),
    );
  });

  it('follows up to four nested indexes and refuses a fifth', async () => {
    const img = makeImage({ layerSizes: [1] });
    const chain = (levels: number): Blob[] => {
      const blobs: Blob[] = [img.manifest, img.config];
      let child = img.manifest.desc;
      for (let i = 0; i < levels; i++) {
        const index = indexOf([{ ...child, platform: amd64 }]);
        blobs.push(index);
        child = index.desc;
      }
      return blobs;
    };
    const four = chain(4);
    const s4 = store(four);
    assert.equal(
      (await resolveFromDescriptor(four.at(-1)!.desc, s4.read, amd64, 'w')).manifestDigest,
      img.manifest.desc.digest,
    );
    const five = chain(5);
    const s5 = store(five);
    await assert.rejects(
      resolveFromDescriptor(five.at(-1)!.desc, s5.read, amd64, 'w'),
      code('BAD_MANIFEST', /^w: image indexes nested more than 4 deep$/),
    );
  });
});
