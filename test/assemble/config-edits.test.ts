import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyKeyValueOps, editImage, epochToCreated, parseConfigOverride } from '../../src/assemble/config-edits.js';
import type { ResolvedImage } from '../../src/oci/transport.js';

function image(): ResolvedImage {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: '2025-01-01T00:00:00Z',
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], Labels: { keep: '1', 'ostree.commit': 'abc' } },
    rootfs: { type: 'layers' as const, diff_ids: [] },
  };
  const manifest = {
    schemaVersion: 2 as const,
    mediaType: 'm',
    config: { mediaType: 'c', digest: 'sha256:x', size: 1 },
    layers: [],
    annotations: { a: '1' },
  };
  return { manifest, manifestBytes: Buffer.alloc(0), manifestDigest: '', config, configBytes: Buffer.alloc(0) };
}

test('labels and annotations: KEY=VALUE sets, KEY- removes, - clears, in order (chunkah)', () => {
  assert.deepEqual(applyKeyValueOps(['a=1', 'b=x=y', 'a-', 'c='], { z: '0' }, '--label'), { z: '0', b: 'x=y', c: '' });
  assert.deepEqual(applyKeyValueOps(['-', 'n=1'], { z: '0' }, '--label'), { n: '1' });
  assert.throws(() => applyKeyValueOps(['=v'], {}, '--label'), /key is empty/);
  assert.throws(() => applyKeyValueOps(['novalue'], {}, '--label'), /KEY=VALUE, KEY- or -/);
});

test('--config takes podman inspect output (last element), one inspect object, a whole OCI config, or the runtime config', () => {
  const inspect = JSON.stringify([
    { Config: { Env: ['X=1'] } },
    {
      Architecture: 'arm64',
      Os: 'linux',
      Created: '2024-05-05T00:00:00Z',
      Config: { Cmd: ['bash'], Labels: { l: 'v' } },
      Annotations: { an: 'x' },
    },
  ]);
  const a = parseConfigOverride(inspect, 'cfg');
  assert.deepEqual(a, {
    config: { Cmd: ['bash'], Labels: { l: 'v' } },
    annotations: { an: 'x' },
    architecture: 'arm64',
    os: 'linux',
    created: '2024-05-05T00:00:00Z',
  });
  assert.deepEqual(
    parseConfigOverride('{"architecture":"s390x","os":"linux","config":{"User":"me"},"rootfs":{}}', 'c').config,
    { User: 'me' },
  );
  assert.deepEqual(parseConfigOverride('{"Entrypoint":["/init"]}', 'c').config, { Entrypoint: ['/init'] });
  assert.throws(() => parseConfigOverride('[]', 'c'), /empty array/);
  assert.throws(
    () => parseConfigOverride('{nope', 'c'),
    (e: Error & { code?: string }) => e.code === 'USAGE',
  );
});

test('editImage: the override replaces runtime fields it has, labels merge then the ops apply, annotations too', () => {
  const override = parseConfigOverride(
    JSON.stringify([
      { Config: { Cmd: ['bash'], Env: ['A=b'], Labels: { from: 'inspect' } }, Annotations: { an: 'x' } },
    ]),
    'c',
  );
  const out = editImage(image(), { override, labels: ['containers.bootc=1', 'ostree.commit-'], annotations: ['b=2'] });
  assert.deepEqual(out.config.config?.Cmd, ['bash']);
  assert.deepEqual(out.config.config?.Env, ['A=b']);
  assert.deepEqual(out.config.config?.Labels, { keep: '1', from: 'inspect', 'containers.bootc': '1' });
  assert.deepEqual(out.manifest.annotations, { a: '1', an: 'x', b: '2' });
  assert.equal(
    out.config.created,
    '2025-01-01T00:00:00Z',
    "no SOURCE_DATE_EPOCH, no Created in the override: the source's",
  );
  assert.equal(image().config.config?.Labels?.['ostree.commit'], 'abc', 'the input is not changed');
});

test("SOURCE_DATE_EPOCH is the created time, before the override's Created", () => {
  assert.equal(epochToCreated(1700000000), '2023-11-14T22:13:20Z');
  const override = parseConfigOverride('{"Config":{},"Created":"2020-01-01T00:00:00Z"}', 'c');
  assert.equal(editImage(image(), { override }).config.created, '2020-01-01T00:00:00Z');
  assert.equal(editImage(image(), { override, sourceDateEpoch: 1700000000 }).config.created, '2023-11-14T22:13:20Z');
});
