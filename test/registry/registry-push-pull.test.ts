// Push and pull against a real registry (Debian's docker-registry, CNCF distribution 2.8) on a
// loopback port, in its three auth modes: none, htpasswd (Basic) and token (JWT from a token
// server of the test's own).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { RegistryClient } from '../../src/registry/client.js';
import { RegistrySink } from '../../src/registry/registry-sink.js';
import { RegistrySource, type RegistryOptions } from '../../src/registry/registry-source.js';
import { LayoutSink } from '../../src/layout/layout-sink.js';
import { LayoutSource } from '../../src/layout/layout-source.js';
import {
  registryAvailable,
  startRegistry,
  type RegistryAuth,
  type RegistryServer,
} from '../helpers/registry-server.js';
import { makeImage, makeIndex, opener, pullImage, pushImage } from '../helpers/test-image.js';

const FAST = { attempts: 4, baseDelayMs: 10, maxDelayMs: 200 };
const skip = registryAvailable() ? false : 'needs /usr/bin/docker-registry (Debian package docker-registry)';

for (const mode of ['none', 'htpasswd', 'token'] as RegistryAuth[]) {
  describe(`registry push and pull, auth: ${mode}`, { skip }, () => {
    let reg: RegistryServer;
    let opts: RegistryOptions;
    before(async () => {
      reg = await startRegistry({ auth: mode, token: { anonymousPull: (repo) => repo.startsWith('public/') } });
      opts = { retry: FAST, ...(mode === 'none' ? {} : { creds: `tester:${reg.users.tester}` }) };
    });
    after(async () => {
      await reg?.stop();
    });

    it('pushes an image and pulls it back byte for byte', async () => {
      const img = makeImage({ layerSizes: [2 * 1024 * 1024, 512 * 1024, 0] });
      const sink = new RegistrySink(`${reg.host}/test/app:v1`, opts);
      await pushImage(sink, img);
      assert.deepEqual(sink.stats, { existing: 0, mounted: 0, uploaded: 4 }); // config + 3 layers, one of them empty
      await sink.close();
      const source = new RegistrySource(`docker://${reg.host}/test/app:v1`, opts);
      try {
        const { resolved, layers } = await pullImage(source);
        assert.equal(resolved.manifestDigest, img.manifest.desc.digest);
        assert.ok(resolved.manifestBytes.equals(img.manifest.data));
        assert.ok(resolved.configBytes.equals(img.config.data));
        layers.forEach((l, i) => assert.ok(l.equals(img.layers[i]!.data), `layer ${i}`));
        // By digest too.
        const byDigest = new RegistrySource(`${reg.host}/test/app@${img.manifest.desc.digest}`, {
          ...opts,
          client: source.client,
        });
        assert.equal(
          (await byDigest.resolve({ os: 'linux', architecture: 'amd64' })).manifestDigest,
          img.manifest.desc.digest,
        );
      } finally {
        await source.close();
      }
    });

    it('uploads no layer bytes for layers the repository already has', async () => {
      const first = makeImage({ layerSizes: [1024 * 1024, 700 * 1024] });
      const sink1 = new RegistrySink(`${reg.host}/test/reuse:v1`, opts);
      await pushImage(sink1, first);
      await sink1.close();
      // Same layers, new config: only the config travels.
      const second = makeImage({ layerSizes: [], layers: first.layers });
      const sink2 = new RegistrySink(`${reg.host}/test/reuse:v2`, opts);
      await pushImage(sink2, second);
      assert.equal(sink2.client.uploadedBytes, second.config.desc.size);
      assert.deepEqual(sink2.stats, { existing: 2, mounted: 0, uploaded: 1 });
      await sink2.close();
      // Into another repository of the same registry: mounted, not uploaded.
      const sink3 = new RegistrySink(`${reg.host}/other/reuse:v1`, { ...opts, mountFrom: 'test/reuse' });
      await pushImage(sink3, second);
      assert.equal(sink3.client.uploadedBytes, 0);
      assert.deepEqual(sink3.stats, { existing: 0, mounted: 3, uploaded: 0 });
      await sink3.close();
      if (reg.token) {
        // The token for the mount was asked with the source repository's pull scope too.
        assert.ok(
          reg.token.requests.some(
            (r) =>
              r.scopes.includes('repository:other/reuse:pull,push') && r.scopes.includes('repository:test/reuse:pull'),
          ),
        );
      }
      const source = new RegistrySource(`${reg.host}/other/reuse:v1`, opts);
      const { layers } = await pullImage(source);
      layers.forEach((l, i) => assert.ok(l.equals(first.layers[i]!.data)));
      await source.close();
    });

    it('picks a platform from an index and names the available ones when none fits', async () => {
      const amd = makeImage({ layerSizes: [100_000], platform: { os: 'linux', architecture: 'amd64' } });
      const arm = makeImage({ layerSizes: [100_000], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
      const index = makeIndex([
        { image: amd, platform: { os: 'linux', architecture: 'amd64' } },
        { image: arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ]);
      const client = new RegistryClient(reg.host, opts);
      try {
        for (const img of [amd, arm]) {
          const sink = new RegistrySink(`${reg.host}/test/multi@${img.manifest.desc.digest}`, { ...opts, client });
          await pushImage(sink, img);
        }
        await client.putManifest('test/multi', 'latest', index.data, index.desc.mediaType);
        const source = new RegistrySource(`${reg.host}/test/multi`, { ...opts, client });
        assert.equal(
          (await source.resolve({ os: 'linux', architecture: 'aarch64' })).manifestDigest,
          arm.manifest.desc.digest,
        );
        assert.equal(
          (await source.resolve({ os: 'linux', architecture: 'arm64', variant: 'v8' })).config.architecture,
          'arm64',
        );
        assert.equal(
          (await source.resolve({ os: 'linux', architecture: 'x86_64' })).manifestDigest,
          amd.manifest.desc.digest,
        );
        await assert.rejects(
          source.resolve({ os: 'linux', architecture: 's390x' }),
          (e: unknown) =>
            e instanceof RechunkerError &&
            e.code === 'PLATFORM' &&
            e.message.includes('linux/amd64') &&
            e.message.includes('linux/arm64/v8'),
        );
      } finally {
        client.close();
      }
    });

    it('reports a missing tag as NOT_FOUND naming registry, repository and tag', async () => {
      const source = new RegistrySource(`${reg.host}/test/app:nope`, opts);
      await assert.rejects(
        source.resolve({ os: 'linux', architecture: 'amd64' }),
        (e: unknown) =>
          e instanceof RechunkerError &&
          e.code === 'NOT_FOUND' &&
          e.message.includes(`${reg.host}/test/app`) &&
          e.message.includes('nope') &&
          /HTTP 404/.test(e.message),
      );
      await source.close();
    });

    if (mode === 'none') {
      it('uploads with PATCH + PUT as well as with one PUT', async () => {
        const img = makeImage({ layerSizes: [1024 * 1024] });
        const sink = new RegistrySink(`${reg.host}/test/patch:v1`, { ...opts, uploadMethod: 'patch' });
        await pushImage(sink, img);
        await sink.close();
        const source = new RegistrySource(`${reg.host}/test/patch:v1`, opts);
        const { layers } = await pullImage(source);
        assert.ok(layers[0]!.equals(img.layers[0]!.data));
        await source.close();
      });

      it('uploads at most `jobs` blobs at once however many the caller starts', async () => {
        const img = makeImage({ layerSizes: [300_000, 300_000, 300_000, 300_000, 300_000, 300_000] });
        const sink = new RegistrySink(`${reg.host}/test/jobs:v1`, { ...opts, jobs: 2 });
        let active = 0;
        let peak = 0;
        await Promise.all(
          [img.config, ...img.layers].map((b) =>
            sink.putBlob(b.desc, async () => {
              const stream = await opener(b, 16 * 1024)();
              active++;
              peak = Math.max(peak, active);
              stream.once('close', () => active--);
              return stream;
            }),
          ),
        );
        await sink.putManifest(img.manifest.data, img.manifest.desc.mediaType, img.manifest.desc.digest);
        await sink.close();
        assert.ok(peak >= 1 && peak <= 2, `peak ${peak}`);
        assert.equal(sink.stats.uploaded, 7);
      });

      // Blob streams that verify themselves (a layout's, a registry's) are not hashed a second time
      // on the way through: a wrong blob must still fail, and leave nothing behind.
      it('refuses a layout blob whose file was changed, uploading nothing', async () => {
        const img = makeImage({ layerSizes: [300_000] });
        const dir = await mkdtemp(path.join(tmpdir(), 'rechunker-push-bad-'));
        try {
          const layout = new LayoutSink('oci:' + dir, dir, 'v1');
          await pushImage(layout, img);
          const desc = img.layers[0]!.desc;
          await writeFile(layout.layout.blobPath(desc.digest), Buffer.from(img.layers[0]!.data).fill(7, 0, 10));
          const source = new LayoutSource('oci:' + dir, dir, 'v1');
          const sink = new RegistrySink(`${reg.host}/test/badfile:v1`, opts);
          await assert.rejects(
            sink.putBlob(desc, () => source.openBlob(desc)),
            (e: unknown) =>
              e instanceof RechunkerError && e.code === 'DIGEST_MISMATCH' && e.message.includes(desc.digest),
          );
          assert.equal(await sink.client.hasBlob('test/badfile', desc.digest), false);
          await sink.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });

      it('pulls into a layout only blobs that hash right: a changed blob in the registry fails and leaves no file', async () => {
        const img = makeImage({ layerSizes: [300_000] });
        const sink = new RegistrySink(`${reg.host}/test/rot:v1`, opts);
        await pushImage(sink, img);
        await sink.close();
        const desc = img.layers[0]!.desc;
        const hex = desc.digest.slice('sha256:'.length);
        const stored = path.join(
          reg.dir,
          'storage',
          'docker',
          'registry',
          'v2',
          'blobs',
          'sha256',
          hex.slice(0, 2),
          hex,
          'data',
        );
        await writeFile(stored, Buffer.from(img.layers[0]!.data).fill(7, 0, 10));
        const dir = await mkdtemp(path.join(tmpdir(), 'rechunker-pull-bad-'));
        const source = new RegistrySource(`${reg.host}/test/rot:v1`, opts);
        try {
          const layout = new LayoutSink('oci:' + dir, dir, 'v1');
          await assert.rejects(
            layout.putBlob(desc, () => source.openBlob(desc)),
            (e: unknown) => e instanceof RechunkerError && e.code === 'DIGEST_MISMATCH',
          );
          assert.equal(await layout.hasBlob(desc), false);
          assert.deepEqual(await readdir(path.join(dir, 'blobs', 'sha256')), []);
        } finally {
          await source.close();
          await rm(dir, { recursive: true, force: true });
        }
      });

      it('refuses a source stream that does not match its descriptor, and then the manifest', async () => {
        const img = makeImage({ layerSizes: [200_000] });
        const sink = new RegistrySink(`${reg.host}/test/bad:v1`, opts);
        const liar = { ...img.layers[0]!, data: Buffer.from(img.layers[0]!.data).fill(7, 0, 10) };
        await assert.rejects(
          sink.putBlob(img.layers[0]!.desc, opener(liar)),
          (e: unknown) =>
            e instanceof RechunkerError &&
            e.code === 'DIGEST_MISMATCH' &&
            e.message.includes(img.layers[0]!.desc.digest),
        );
        await assert.rejects(
          sink.putManifest(img.manifest.data, img.manifest.desc.mediaType, img.manifest.desc.digest),
          (e: unknown) => e instanceof RechunkerError && e.code === 'REGISTRY',
        );
        assert.equal(await sink.client.headManifest('test/bad', 'v1'), undefined);
        assert.equal(await sink.client.hasBlob('test/bad', img.layers[0]!.desc.digest), false);
        await sink.close();
      });
    }

    if (mode === 'htpasswd') {
      it('refuses wrong or missing credentials with AUTH, without printing the password', async () => {
        const wrong = 'not-the-password-xyz';
        const sink = new RegistrySink(`${reg.host}/test/app:v9`, { ...opts, creds: `tester:${wrong}` });
        await assert.rejects(
          pushImage(sink, makeImage({ layerSizes: [10] })),
          (e: unknown) =>
            e instanceof RechunkerError &&
            e.code === 'AUTH' &&
            /HTTP 401/.test(e.message) &&
            !e.message.includes(wrong),
        );
        await sink.close();
        const anon = new RegistrySource(`${reg.host}/test/app:v1`, { retry: FAST, authfile: '/nonexistent/auth.json' });
        await assert.rejects(
          anon.resolve({ os: 'linux', architecture: 'amd64' }),
          (e: unknown) => e instanceof RechunkerError && e.code === 'AUTH',
        );
        await anon.close();
      });
    }

    if (mode === 'token') {
      it('pulls anonymously where the token server allows it, and takes credentials from an auth file', async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'rechunker-authfile-'));
        try {
          const authfile = path.join(dir, 'auth.json');
          await writeFile(
            authfile,
            JSON.stringify({
              auths: { [reg.host]: { auth: Buffer.from(`tester:${reg.users.tester}`).toString('base64') } },
            }),
          );
          const img = makeImage({ layerSizes: [50_000] });
          const sink = new RegistrySink(`${reg.host}/public/app:v1`, { retry: FAST, authfile });
          await pushImage(sink, img);
          await sink.close();
          const anon = new RegistrySource(`${reg.host}/public/app:v1`, {
            retry: FAST,
            authfile: path.join(dir, 'none.json'),
          });
          const { layers } = await pullImage(anon);
          assert.ok(layers[0]!.equals(img.layers[0]!.data));
          await anon.close();
          assert.ok(
            reg.token!.requests.some(
              (r) =>
                r.user === undefined && r.granted.some((g) => g.name === 'public/app' && g.actions.includes('pull')),
            ),
          );
          const denied = new RegistrySource(`${reg.host}/test/app:v1`, {
            retry: FAST,
            authfile: path.join(dir, 'none.json'),
          });
          await assert.rejects(
            denied.resolve({ os: 'linux', architecture: 'amd64' }),
            (e: unknown) => e instanceof RechunkerError && e.code === 'AUTH',
          );
          await denied.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
}

describe('registry over https with a self-signed certificate', { skip }, () => {
  let reg: RegistryServer;
  before(async () => {
    reg = await startRegistry({ auth: 'htpasswd', tls: true });
  });
  after(async () => {
    await reg?.stop();
  });

  it('works with tlsVerify false (--tls-verify=false), and refuses the certificate otherwise', async () => {
    const base = { retry: FAST, creds: `tester:${reg.users.tester}` };
    const img = makeImage({ layerSizes: [300_000] });
    const sink = new RegistrySink(`${reg.host}/tls/app:v1`, { ...base, tlsVerify: false });
    await pushImage(sink, img);
    assert.equal((await sink.client.conn.base()).protocol, 'https:');
    await sink.close();
    const source = new RegistrySource(`${reg.host}/tls/app:v1`, { ...base, tlsVerify: false });
    const { layers } = await pullImage(source);
    assert.ok(layers[0]!.equals(img.layers[0]!.data));
    await source.close();
    const strict = new RegistrySource(`${reg.host}/tls/app:v1`, base);
    await assert.rejects(
      strict.resolve({ os: 'linux', architecture: 'amd64' }),
      (e: unknown) =>
        e instanceof RechunkerError &&
        e.code === 'NETWORK' &&
        /certificate/i.test(e.message) &&
        /--tls-verify=false/.test(e.message) &&
        e.message.includes('tls/app'),
    );
    await strict.close();
  });
});
