import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '../../src/oci/digest.js';
import { toOciManifests } from '../../src/oci/to-oci.js';
import { MediaType } from '../../src/oci/types.js';

const stored = (obj: object, mediaType?: string) => {
  const bytes = Buffer.from(JSON.stringify(obj));
  return { bytes, digest: sha256(bytes), ...(mediaType ? { mediaType } : {}) };
};
const blob = (mediaType: string, data: string) => ({ mediaType, digest: sha256(data), size: data.length });

test('Docker schema 2 manifests and lists become OCI ones, and what names them follows', () => {
  const child = stored({
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: blob(MediaType.DockerConfig, 'c'),
    layers: [blob(MediaType.DockerLayerGzip, 'l')],
  });
  const oci = stored({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: blob(MediaType.OciConfig, 'c2'),
    layers: [blob(MediaType.OciLayerGzip, 'l2')],
  });
  const entry = (m: typeof child, mediaType: string, architecture: string) => ({
    mediaType,
    digest: m.digest,
    size: m.bytes.length,
    platform: { os: 'linux', architecture },
  });
  const list = stored(
    {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifestList,
      manifests: [entry(child, MediaType.DockerManifest, 'amd64'), entry(oci, MediaType.OciManifest, 'arm64')],
    },
    MediaType.DockerManifestList,
  );
  const { manifests, converted } = toOciManifests([child, oci, list]);
  assert.equal(converted, true);
  const [c, o, l] = manifests.map((m) => ({ ...m, json: JSON.parse(m.bytes.toString()) }));
  assert.equal(c!.json.mediaType, MediaType.OciManifest);
  assert.equal(c!.json.config.mediaType, MediaType.OciConfig);
  assert.equal(c!.json.config.digest, sha256('c'), 'the blobs are the same');
  assert.equal(c!.json.layers[0].mediaType, MediaType.OciLayerGzip);
  assert.equal(c!.digest, sha256(c!.bytes));
  assert.equal(o!.bytes, oci.bytes, 'an OCI manifest is left as it is');
  assert.equal(l!.json.mediaType, MediaType.OciIndex);
  assert.equal(l!.mediaType, MediaType.OciIndex);
  assert.deepEqual(l!.json.manifests[0], {
    mediaType: MediaType.OciManifest,
    digest: c!.digest,
    size: c!.bytes.length,
    platform: { os: 'linux', architecture: 'amd64' },
  });
  assert.equal(l!.json.manifests[1].digest, oci.digest);

  const untouched = toOciManifests([oci]);
  assert.equal(untouched.converted, false);
  assert.equal(untouched.manifests[0], oci);
});

test('a Docker type with no OCI name is refused', () => {
  const m = stored({
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: blob(MediaType.DockerConfig, 'c'),
    layers: [blob('application/vnd.docker.plugin.v1+json', 'p')],
  });
  assert.throws(() => toOciManifests([m]), /has no OCI equivalent/);
});
