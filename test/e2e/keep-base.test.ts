import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { corpusIgnore, corpusLayout, corpusRootfs, corpusSuite, trueTree } from '../helpers/corpus.js';
import { compareTrees, formatDifferences, type TreeDifference } from '../helpers/tree-compare.js';
import { registryAvailable, startRegistry } from '../helpers/registry-server.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';

/**
 * --keep-base: `derived` is `updated` plus three layers. Rechunked with `updated` as its base, the
 * output must start with `updated`'s own layer, byte for byte, show the true `derived` tree
 * through podman's overlayfs, and cost a client that holds `updated` only the new layers.
 */
interface Descriptor {
  digest: string;
  size: number;
  mediaType: string;
}
interface Manifest {
  layers: Descriptor[];
  config: Descriptor;
}

async function manifestOf(layout: string, tag: string): Promise<Manifest> {
  const index = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.ok(entry, `tag ${tag} in ${layout}`);
  return JSON.parse(await fs.readFile(path.join(layout, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8')) as Manifest;
}

async function diffIds(layout: string, m: Manifest): Promise<string[]> {
  const config = JSON.parse(await fs.readFile(path.join(layout, 'blobs', 'sha256', m.config.digest.slice(7)), 'utf8'));
  return (config as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
}

/** The corpus script restores `etc`'s mtime without its nanoseconds in the true tree only. */
function etcNanoseconds(d: TreeDifference): boolean {
  return d.path === 'etc' && d.fields.length === 1 && d.fields[0]!.field === 'mtime';
}

describe('rechunk --keep-base', () => {
  const suite = corpusSuite('rechunker-keep-base');
  const updated = () => `oci:${corpusLayout()}:updated`;

  async function layersInStore(): Promise<number> {
    const file = path.join(suite.podman!.dir, 'root', 'overlay-layers', 'layers.json');
    return existsSync(file) ? (JSON.parse(await fs.readFile(file, 'utf8')) as unknown[]).length : 0;
  }

  for (const source of ['image', 'rootfs'] as const) {
    it(`${source} source: keeps updated's layer, equals rootfs/derived in podman, adds only new layers`, async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const out = path.join(suite.out, source);
      const from = source === 'image' ? `oci:${corpusLayout()}:derived` : `rootfs:${corpusRootfs('derived')}`;
      const r = await runCli(['rechunk', from, `oci:${out}:d`, '--keep-base', updated(), '--quiet', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout) as { keptBase: { layers: number }; layers: { kept: boolean }[] };
      assert.equal(result.keptBase.layers, 1);

      const base = await manifestOf(corpusLayout(), 'updated');
      const made = await manifestOf(out, 'd');
      assert.deepEqual(made.layers[0], base.layers[0], "the bottom layer is updated's descriptor, unchanged");
      assert.equal((await diffIds(out, made))[0], (await diffIds(corpusLayout(), base))[0]);
      assert.deepEqual(
        result.layers.map((l) => l.kept),
        made.layers.map((_, i) => i === 0),
      );
      const baseBlob = await fs.readFile(path.join(corpusLayout(), 'blobs', 'sha256', base.layers[0]!.digest.slice(7)));
      const keptBlob = await fs.readFile(path.join(out, 'blobs', 'sha256', made.layers[0]!.digest.slice(7)));
      assert.ok(baseBlob.equals(keptBlob), 'the kept blob is byte-identical');
      // Nothing of the base is written again above it: the new layers hold only derived's changes.
      const newBytes = made.layers.slice(1).reduce((n, l) => n + l.size, 0);
      assert.ok(newBytes < base.layers[0]!.size / 2, `${newBytes} bytes above the base`);

      // A client that holds updated: the one layer it has is shared in its store, the rest is new.
      await suite.podman!.pull(updated());
      const before = await layersInStore();
      const id = await suite.podman!.pull(`oci:${out}:d`);
      assert.equal((await layersInStore()) - before, made.layers.length - 1, 'only the new layers are stored');

      const mounted = await snapshotTree(await suite.podman!.mount(id));
      const diffs = compareTrees(await trueTree('derived'), mounted, { ignore: corpusIgnore }).filter(
        (d) => !(source === 'image' && etcNanoseconds(d)),
      );
      assert.equal(diffs.length, 0, `podman shows ${diffs.length} differences:\n${formatDifferences(diffs)}`);
      await suite.podman!.unmount(id);
      await suite.podman!.podman(['rmi', '-f', id]);
    });
  }

  it('into a registry holding the base in another repository: the kept layer is mounted, not uploaded', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    if (!registryAvailable()) return t.skip('docker-registry is not installed');
    const registry = await startRegistry();
    try {
      const base = `docker://${registry.host}/os/base:1`;
      const copied = await runCli(['copy', updated(), base, '--tls-verify=false', '-q']);
      assert.equal(copied.code, 0, copied.stderr);
      const r = await runCli([
        'rechunk',
        `oci:${corpusLayout()}:derived`,
        `docker://${registry.host}/os/app:1`,
        '--keep-base',
        base,
        '--tls-verify=false',
        '--quiet',
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout) as {
        layers: { digest: string; kept: boolean }[];
        transfer: { mounted: number; uploaded: number };
      };
      assert.equal(result.transfer.mounted, 1, 'the base layer is mounted from os/base');
      const newLayers = result.layers.length - 1;
      assert.equal(result.transfer.uploaded, newLayers + 1, 'the new layers and the config are uploaded');
      const kept = result.layers.filter((l) => l.kept).map((l) => l.digest);
      assert.deepEqual(kept, [(await manifestOf(corpusLayout(), 'updated')).layers[0]!.digest]);
    } finally {
      await registry.stop();
    }
  });

  it('refuses a base SOURCE does not start with, and a base that is a root filesystem, writing nothing', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const out = path.join(suite.out, 'refused');
    for (const base of [`oci:${corpusLayout()}:base`, `rootfs:${corpusRootfs('updated')}`]) {
      const r = await runCli(['rechunk', `oci:${corpusLayout()}:derived`, `oci:${out}:d`, '--keep-base', base, '-q']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--keep-base/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(!existsSync(path.join(out, 'index.json')), 'no image was written');
    }
  });
});
