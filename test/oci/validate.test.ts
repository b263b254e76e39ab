import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { sha256 } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/types.js';
import { checkDescriptor, parseConfig, parseManifest } from '../../src/oci/validate.js';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const desc = (mediaType: string, data = 'x') => ({ mediaType, digest: sha256(data), size: data.length });
const manifest = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  config: desc(MediaType.OciConfig),
  layers: [desc(MediaType.OciLayerGzip, 'l')],
  ...extra,
});
const index = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  manifests: [desc(MediaType.OciManifest)],
  ...extra,
});

function badManifest(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof RechunkerError && e.code === 'BAD_MANIFEST' && pattern.test(e.message);
}

describe('parseManifest', () => {
  it('refuses Docker schema1 with a message that says what to do', () => {
    assert.throws(
      () => parseManifest(json({ schemaVersion: 1, name: 'x', fsLayers: [] }), undefined, 'reg/repo: manifest latest'),
      (e: Error & { code?: string }) =>
        e.code === 'UNSUPPORTED' &&
        /^reg\/repo: manifest latest: Docker schema1 manifests are not supported \(push the image again/.test(
          e.message,
        ),
    );
    assert.throws(
      () => parseManifest(json({ schemaVersion: 3 }), undefined, 'here'),
      badManifest(/unsupported schemaVersion 3/),
    );
    assert.throws(
      () => parseManifest(Buffer.from('{"schemaVersion": 2, "layers": ['), undefined, 'here'),
      badManifest(/^here: not valid JSON/),
    );
    assert.throws(() => parseManifest(json([1]), undefined, 'here'), badManifest(/not a JSON object/));
  });

  it('tells manifests from indexes by declared type, the document own type, or its shape', () => {
    assert.equal(parseManifest(json(manifest()), MediaType.OciManifest, 'w').kind, 'manifest');
    assert.equal(parseManifest(json(manifest()), MediaType.DockerManifest, 'w').mediaType, MediaType.DockerManifest);
    assert.equal(parseManifest(json(index()), MediaType.DockerManifestList, 'w').kind, 'index');
    // The document's own mediaType wins over the descriptor's.
    const own = parseManifest(json(manifest({ mediaType: MediaType.DockerManifest })), MediaType.OciManifest, 'w');
    assert.deepEqual([own.kind, own.mediaType], ['manifest', MediaType.DockerManifest]);
    // No useful declared type (none, '' from a bare digest, 'application/json' from a registry): the shape decides.
    for (const declared of [undefined, '', 'application/json']) {
      const m = parseManifest(json(manifest()), declared, 'w');
      assert.deepEqual([m.kind, m.mediaType], ['manifest', MediaType.OciManifest], String(declared));
      const i = parseManifest(json(index()), declared, 'w');
      assert.deepEqual([i.kind, i.mediaType], ['index', MediaType.OciIndex], String(declared));
    }
    // A manifests list and no config is an index, whatever it was called.
    assert.equal(parseManifest(json(index()), MediaType.OciManifest, 'w').kind, 'index');
  });

  it('refuses unknown media types and malformed descriptors', () => {
    assert.throws(
      () => parseManifest(json(manifest()), 'application/vnd.example+json', 'w'),
      badManifest(/^w: unsupported media type application\/vnd\.example\+json$/),
    );
    assert.throws(
      () => parseManifest(json(manifest({ layers: undefined })), undefined, 'w'),
      badManifest(/manifest without a layers list/),
    );
    assert.throws(
      () => parseManifest(json({ schemaVersion: 2, mediaType: MediaType.OciIndex }), undefined, 'w'),
      badManifest(/index without a manifests list/),
    );
    assert.throws(
      () => parseManifest(json(manifest({ config: 'nope' })), undefined, 'w'),
      badManifest(/^w config: descriptor is not an object/),
    );
    const hostile = manifest({
      layers: [{ mediaType: MediaType.OciLayer, digest: 'sha256:../../../../etc/passwd', size: 1 }],
    });
    assert.throws(
      () => parseManifest(json(hostile), undefined, 'w'),
      badManifest(
        /^w layers\[0\]: invalid or unsupported digest "sha256:\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" \(only sha256 is supported\)/,
      ),
    );
    const sha512 = index({
      manifests: [{ mediaType: MediaType.OciManifest, digest: 'sha512:' + 'a'.repeat(128), size: 1 }],
    });
    assert.throws(
      () => parseManifest(json(sha512), undefined, 'w'),
      badManifest(/^w manifests\[0\]: invalid or unsupported digest/),
    );
  });
});

describe('checkDescriptor', () => {
  it('needs a media type, a sha256 digest and a whole non-negative size', () => {
    const good = desc(MediaType.OciLayer);
    assert.deepEqual(checkDescriptor(good, 'w'), good);
    assert.throws(() => checkDescriptor(null, 'w'), badManifest(/descriptor is not an object/));
    assert.throws(() => checkDescriptor({ ...good, mediaType: 3 }, 'w'), badManifest(/descriptor without mediaType/));
    assert.throws(
      () => checkDescriptor({ ...good, digest: 42 }, 'w'),
      badManifest(/invalid or unsupported digest "number"/),
    );
    for (const size of [-1, 1.5, '3', Number.MAX_SAFE_INTEGER + 2]) {
      assert.throws(() => checkDescriptor({ ...good, size }, 'w'), badManifest(/has an invalid size/), String(size));
    }
  });
});

describe('parseConfig', () => {
  const config = (diffIds: unknown[], extra: Record<string, unknown> = {}) =>
    json({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: diffIds }, ...extra });

  it('accepts a config whose diff_ids match the layers', () => {
    assert.equal(parseConfig(config([sha256('a'), sha256('b')]), 2, 'w').architecture, 'amd64');
  });

  it('refuses missing or mismatched diff_ids, bad digests and missing os/architecture', () => {
    assert.throws(
      () => parseConfig(json({ os: 'linux', architecture: 'amd64' }), 0, 'w'),
      badManifest(/config without rootfs\.diff_ids/),
    );
    assert.throws(
      () => parseConfig(config([sha256('a')]), 2, 'w'),
      badManifest(/config lists 1 diff_ids for 2 layers/),
    );
    assert.throws(
      () => parseConfig(config(['md5:abc']), 1, 'w'),
      badManifest(/^w rootfs\.diff_ids\[0\]: invalid or unsupported digest "md5:abc"/),
    );
    assert.throws(
      () => parseConfig(config([], { os: undefined }), 0, 'w'),
      badManifest(/config without os\/architecture/),
    );
  });

  it('refuses copied fields that Go readers could not decode, and lets null through', () => {
    const ok = {
      created: '2024-05-01T10:20:30.123456789Z',
      author: null,
      config: { Env: ['A=1'], Cmd: null, Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} }, User: '0:0' },
      history: [{ created: '2024-05-01T10:20:30+02:00', created_by: 'RUN x', empty_layer: true }, {}],
    };
    assert.equal(parseConfig(config([], ok), 0, 'w').created, ok.created);
    assert.equal(parseConfig(config([], { config: null, history: null }), 0, 'w').os, 'linux');
    const wrong: [Record<string, unknown>, RegExp][] = [
      [{ created: 'not a date' }, /created is not an RFC 3339 time/],
      [{ created: '2024-05-01 10:20:30' }, /created is not an RFC 3339 time/],
      [{ config: { Labels: { a: 5 } } }, /config\.Labels\.a is not a string/],
      [{ config: { Labels: ['x'] } }, /config\.Labels is not an object of strings/],
      [{ config: { Env: ['A=1', 7] } }, /config\.Env\[1\] is not a string/],
      [{ config: { Cmd: 'sh' } }, /config\.Cmd is not a list of strings/],
      [{ config: { User: 0 } }, /config\.User is not a string/],
      [{ config: { Volumes: [] } }, /config\.Volumes is not an object/],
      [{ config: 'x' }, /config field config is not an object/],
      [{ history: [{ created: 5 }] }, /history\[0\]\.created is not an RFC 3339 time/],
      [{ history: [{ empty_layer: 'yes' }] }, /history\[0\]\.empty_layer is not true or false/],
      [{ history: {} }, /history is not a list/],
    ];
    for (const [extra, message] of wrong)
      assert.throws(() => parseConfig(config([], extra), 0, 'w'), badManifest(message), JSON.stringify(extra));
  });
});
