// A fault-injecting proxy between the client and a real registry: dropped connections mid-blob
// (downloads and uploads), 500s and 429s a few times. Pushes and pulls still succeed and leave a
// complete image; a registry that keeps failing gives one clear error naming the blob and the
// status, and leaves no manifest behind.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { RegistryClient } from '../../src/registry/client.js';
import { RegistrySink } from '../../src/registry/registry-sink.js';
import { RegistrySource, type RegistryOptions } from '../../src/registry/registry-source.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { registryAvailable, startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { makeImage, pullImage, pushImage, type TestImage } from '../helpers/test-image.js';

const skip = registryAvailable() ? false : 'needs /usr/bin/docker-registry (Debian package docker-registry)';
const MiB = 1024 * 1024;
const BLOB_GET = /^\/v2\/.+\/blobs\/sha256:/;
const UPLOAD = /\/blobs\/uploads\//;
const MANIFEST = /\/manifests\//;

describe('registry transfers through a faulty connection', { skip }, () => {
  let reg: RegistryServer;
  let proxy: FaultProxy;
  const opts = (): RegistryOptions => ({ retry: { attempts: 5, baseDelayMs: 10, maxDelayMs: 300 } });

  before(async () => {
    reg = await startRegistry({ auth: 'htpasswd', relativeUrls: true });
    proxy = await startFaultProxy(reg.port);
  });
  after(async () => {
    await proxy?.stop();
    await reg?.stop();
  });
  afterEach(() => {
    proxy.clearRules();
    proxy.log.length = 0;
  });

  const creds = (): RegistryOptions => ({ ...opts(), creds: `tester:${reg.users.tester}` });

  async function assertImageIntact(host: string, ref: string, img: TestImage): Promise<void> {
    const source = new RegistrySource(`${host}/${ref}`, creds());
    try {
      const { resolved, layers } = await pullImage(source);
      assert.equal(resolved.manifestDigest, img.manifest.desc.digest);
      layers.forEach((l, i) => assert.ok(l.equals(img.layers[i]!.data), `layer ${i}`));
    } finally {
      await source.close();
    }
  }

  it('pushes through 500s, 429s with Retry-After and connections cut mid-upload', async () => {
    const img = makeImage({ layerSizes: [3 * MiB, 2 * MiB, 300 * 1024] });
    proxy.addRule({ method: 'POST', path: UPLOAD, action: { kind: 'status', status: 500 }, times: 2 });
    proxy.addRule({ method: 'PUT', path: UPLOAD, action: { kind: 'status', status: 429, retryAfter: '1' }, times: 1 });
    proxy.addRule({ method: 'PUT', path: UPLOAD, action: { kind: 'drop-request', afterBytes: 1 * MiB }, times: 2 });
    proxy.addRule({ method: 'HEAD', path: BLOB_GET, action: { kind: 'status', status: 503 }, times: 2 });
    proxy.addRule({ method: 'PUT', path: MANIFEST, action: { kind: 'status', status: 502 }, times: 2 });
    const sink = new RegistrySink(`${proxy.host}/faults/push:v1`, { ...creds(), jobs: 2 });
    await pushImage(sink, img);
    await sink.close();
    assert.ok(
      proxy.rules.every((r) => r.hits === r.times),
      JSON.stringify(proxy.rules.map((r) => [r.action.kind, r.hits])),
    );
    assert.ok(proxy.log.some((e) => e.status === 429));
    // The registry gives relative upload Locations; they were resolved against the proxy.
    assert.ok(
      proxy.log.some(
        (e) => e.method === 'PUT' && UPLOAD.test(e.path) && /[?&]digest=sha256%3A/.test(e.path) && e.status === 201,
      ),
    );
    await assertImageIntact(reg.host, 'faults/push:v1', img);
  });

  it('pulls through dropped connections (resuming with Range), 500s and 429s', async () => {
    const img = makeImage({ layerSizes: [4 * MiB, 1 * MiB] });
    const sink = new RegistrySink(`${reg.host}/faults/pull:v1`, creds());
    await pushImage(sink, img);
    await sink.close();
    proxy.addRule({ method: 'GET', path: MANIFEST, action: { kind: 'status', status: 500 }, times: 2 });
    proxy.addRule({
      method: 'GET',
      path: BLOB_GET,
      action: { kind: 'status', status: 429, retryAfter: '0' },
      times: 1,
    });
    proxy.addRule({
      method: 'GET',
      path: new RegExp(img.layers[0]!.desc.digest),
      action: { kind: 'drop-response', afterBytes: 1 * MiB },
      times: 3,
    });
    proxy.addRule({
      method: 'GET',
      path: new RegExp(img.layers[1]!.desc.digest),
      action: { kind: 'drop-response', afterBytes: 100_000 },
      times: 1,
    });
    const source = new RegistrySource(`${proxy.host}/faults/pull:v1`, creds());
    try {
      const { resolved, layers } = await pullImage(source);
      assert.equal(resolved.manifestDigest, img.manifest.desc.digest);
      layers.forEach((l, i) => assert.ok(l.equals(img.layers[i]!.data), `layer ${i}`));
      assert.equal(source.client.downloadedBytes, img.config.desc.size + 5 * MiB);
    } finally {
      await source.close();
    }
    assert.ok(proxy.rules.every((r) => r.hits === r.times));
    // The resumed requests asked for the rest only.
    const ranged = proxy.log.filter((e) => e.range !== undefined);
    assert.ok(
      ranged.some((e) => e.range === `bytes=${1 * MiB}-` && e.status === 206),
      JSON.stringify(ranged),
    );
    assert.ok(ranged.some((e) => e.range === 'bytes=100000-' && e.status === 206));
  });

  it('gives up on a registry that keeps failing: one line naming the blob and status, no manifest', async () => {
    const img = makeImage({ layerSizes: [200_000, 100_000] });
    proxy.addRule({ method: 'PUT', path: UPLOAD, action: { kind: 'status', status: 500 }, times: Infinity });
    const sink = new RegistrySink(`${proxy.host}/faults/broken:v1`, {
      ...creds(),
      retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    });
    let error: unknown;
    try {
      await pushImage(sink, img);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof RechunkerError, String(error));
    assert.equal(error.code, 'REGISTRY');
    assert.match(error.message, /HTTP 500/);
    assert.match(error.message, /after 3 attempts/);
    assert.ok(error.message.includes(`${proxy.host}/faults/broken`), error.message);
    assert.ok(
      [img.config, ...img.layers].some((b) => error instanceof Error && error.message.includes(b.desc.digest)),
      error.message,
    );
    assert.ok(!error.message.includes('\n') && !error.message.includes(reg.users.tester!));
    // Blobs that did make it are no tag; the manifest was never sent.
    await assert.rejects(
      sink.putManifest(img.manifest.data, img.manifest.desc.mediaType, img.manifest.desc.digest),
      (e: unknown) => e instanceof RechunkerError && /not pushing the manifest/.test(e.message),
    );
    await sink.close();
    assert.equal(proxy.log.filter((e) => e.method === 'PUT' && MANIFEST.test(e.path)).length, 0);
    const direct = new RegistryClient(reg.host, creds());
    assert.equal(await direct.headManifest('faults/broken', 'v1'), undefined);
    direct.close();
  });

  it('a registry that keeps answering 429 with Retry-After: 0 is retried with backoff and named as answering', async () => {
    proxy.addRule({
      method: 'GET',
      path: /^\/v2\/$/,
      action: { kind: 'status', status: 429, retryAfter: '0' },
      times: Infinity,
    });
    const source = new RegistrySource(`${proxy.host}/faults/busy:v1`, {
      ...creds(),
      retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    });
    const started = Date.now();
    try {
      await assert.rejects(
        pullImage(source),
        (e: unknown) =>
          e instanceof RechunkerError &&
          e.code === 'REGISTRY' &&
          /HTTP 429/.test(e.message) &&
          /after 3 attempts/.test(e.message),
      );
    } finally {
      await source.close();
    }
    // Two waits of at least half a backoff step each (50 ms, then 100 ms), not three immediate tries.
    assert.ok(Date.now() - started >= 150, `waited ${Date.now() - started} ms`);
  });

  it('gives up on a blob whose downloads keep dropping, naming it', async () => {
    const img = makeImage({ layerSizes: [600_000] });
    const sink = new RegistrySink(`${reg.host}/faults/drop:v1`, creds());
    await pushImage(sink, img);
    await sink.close();
    const digest = img.layers[0]!.desc.digest;
    proxy.addRule({
      method: 'GET',
      path: new RegExp(digest),
      action: { kind: 'drop-response', afterBytes: 0 },
      times: Infinity,
    });
    const source = new RegistrySource(`${proxy.host}/faults/drop:v1`, {
      ...creds(),
      retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    });
    try {
      await assert.rejects(
        pullImage(source),
        (e: unknown) =>
          e instanceof RechunkerError &&
          e.code === 'NETWORK' &&
          e.message.includes(digest) &&
          e.message.includes('faults/drop'),
      );
    } finally {
      await source.close();
    }
    const hits = proxy.rules[0]!.hits;
    assert.ok(hits >= 3 && hits <= 20, `bounded retries: ${hits}`);
  });

  it('pushes layers the registry already has without sending their bytes (counted at the proxy)', async () => {
    const first = makeImage({ layerSizes: [2 * MiB, 1 * MiB] });
    const sink1 = new RegistrySink(`${proxy.host}/faults/reuse:v1`, creds());
    await pushImage(sink1, first);
    await sink1.close();
    assert.equal(proxy.uploadBodyBytes >= 3 * MiB, true);
    const before = proxy.uploadBodyBytes;
    const second = makeImage({ layerSizes: [], layers: first.layers });
    const sink2 = new RegistrySink(`${proxy.host}/faults/reuse:v2`, creds());
    await pushImage(sink2, second);
    await sink2.close();
    assert.equal(proxy.uploadBodyBytes - before, second.config.desc.size);
    assert.equal(sink2.client.uploadedBytes, second.config.desc.size);
    await assertImageIntact(reg.host, 'faults/reuse:v2', second);
  });
});
