import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { corpusIgnore, corpusLayout, corpusRootfs, corpusSkipReason } from '../helpers/corpus.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { Podman } from '../helpers/podman.js';
import { registryAvailable, startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { compareTrees, formatDifferences } from '../helpers/tree-compare.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';
import { has, run } from '../helpers/tools.js';

/**
 * Registry round trip of a real OS image: rechunk straight into a registry started here, pull it
 * back with podman and compare with the true tree, copy it out again with the same digest, and
 * push it a second time without sending a layer byte.
 */
describe('rechunk into a registry', () => {
  let skip: string | undefined;
  let registry: RegistryServer | undefined;
  let proxy: FaultProxy | undefined;
  let podman: Podman | undefined;
  let tmp: string;
  let pushedDigest: string;

  before(async () => {
    skip = await corpusSkipReason();
    if (!skip && !registryAvailable()) skip = 'docker-registry is not installed';
    if (!skip && !(await has('skopeo'))) skip = 'skopeo is not installed';
    if (skip) return;
    registry = await startRegistry({ auth: 'htpasswd' });
    proxy = await startFaultProxy(registry.port);
    podman = await Podman.create();
    tmp = `/var/tmp/rechunker-reg-${process.pid}-${Date.now().toString(36)}`;
    await fs.mkdir(tmp, { recursive: true });
  });
  after(async () => {
    await podman?.cleanup();
    await proxy?.stop();
    await registry?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  const creds = () => {
    const [user, pass] = Object.entries(registry!.users)[0]!;
    return `${user}:${pass}`;
  };

  it('podman pulls the rechunked image from the registry and sees the true tree', async (t) => {
    if (skip) return t.skip(skip);
    const ref = `docker://${proxy!.host}/os:rechunked`;
    const r = await runCli([
      'rechunk',
      `oci:${corpusLayout()}:updated`,
      ref,
      '--creds',
      creds(),
      '--tls-verify=false',
      '--quiet',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    pushedDigest = (JSON.parse(r.stdout) as { manifestDigest: string }).manifestDigest;

    const inspected = await run('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--creds',
      creds(),
      `docker://${registry!.host}/os:rechunked`,
    ]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.equal(
      (JSON.parse(inspected.stdout) as { Digest: string }).Digest,
      pushedDigest,
      'skopeo sees the pushed digest',
    );

    await podman!.podman([
      'pull',
      '-q',
      '--tls-verify=false',
      '--creds',
      creds(),
      `docker://${registry!.host}/os:rechunked`,
    ]);
    const id = (
      await podman!.podman(['image', 'inspect', '--format', '{{.Id}}', `${registry!.host}/os:rechunked`])
    ).trim();
    const mounted = await snapshotTree(await podman!.mount(id));
    const diffs = compareTrees(await snapshotTree(corpusRootfs('updated')), mounted, { ignore: corpusIgnore });
    assert.equal(diffs.length, 0, formatDifferences(diffs));
  });

  it('copy from the registry to a layout keeps the manifest digest', async (t) => {
    if (skip) return t.skip(skip);
    const layout = path.join(tmp, 'copied');
    const r = await runCli([
      'copy',
      `docker://${registry!.host}/os:rechunked`,
      `oci:${layout}:copied`,
      '--creds',
      creds(),
      '--tls-verify=false',
      '--quiet',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { manifestDigest: string }).manifestDigest, pushedDigest);
    const index = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    assert.equal(index.manifests[0]!.digest, pushedDigest);
  });

  it('pushing layers the registry already has sends no layer bytes', async (t) => {
    if (skip) return t.skip(skip);
    const before = proxy!.uploadBodyBytes;
    const r = await runCli([
      'copy',
      `oci:${path.join(tmp, 'copied')}:copied`,
      `docker://${proxy!.host}/os:again`,
      '--creds',
      creds(),
      '--tls-verify=false',
      '--quiet',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const sent = proxy!.uploadBodyBytes - before;
    assert.ok(sent < 64 * 1024, `only the manifest travels, sent ${sent} bytes`);
  });

  it('copy within one registry mounts the blobs instead of sending them', async (t) => {
    if (skip) return t.skip(skip);
    const before = proxy!.uploadBodyBytes;
    const r = await runCli([
      'copy',
      `docker://${proxy!.host}/os:rechunked`,
      `docker://${proxy!.host}/mirror/os:mounted`,
      '--creds',
      creds(),
      '--tls-verify=false',
      '--quiet',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const sent = proxy!.uploadBodyBytes - before;
    assert.equal(sent, 0, `every blob mounted from os, sent ${sent} bytes`);
  });

  it('a registry that refuses the credentials fails in one line, tagging nothing', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runCli([
      'copy',
      `oci:${path.join(tmp, 'copied')}:copied`,
      `docker://${registry!.host}/os:denied`,
      '--creds',
      'tester:wrong',
      '--tls-verify=false',
      '--quiet',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^rechunker: error \[AUTH\]: .*\n$/);
    assert.doesNotMatch(r.stderr, /wrong/, 'the password is never printed');
    const probe = await run('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--creds',
      creds(),
      `docker://${registry!.host}/os:denied`,
    ]);
    assert.notEqual(probe.code, 0, 'no manifest under the tag');
  });
});
