import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { corpusIgnore, corpusLayout, corpusSuite, trueTree } from '../helpers/corpus.js';
import { compareTrees, formatDifferences } from '../helpers/tree-compare.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';
import { has } from '../helpers/tools.js';

/**
 * containers-storage: against a real store: podman pulls the corpus image into a private overlay
 * store, and rechunking it from there must give the very layers rechunking the OCI layout gives
 * (each layer is rebuilt byte for byte from its tar-split record); an image written into the store
 * must mount, through the kernel's overlayfs, as the true tree.
 */
describe('containers-storage: with a podman store', () => {
  const suite = corpusSuite('rechunker-cs');

  const storeRef = (image: string) => {
    const dir = suite.podman!.dir;
    return `containers-storage:[overlay@${path.join(dir, 'root')}+${path.join(dir, 'run')}]${image}`;
  };

  async function rechunk(
    src: string,
    dest: string,
    ...flags: string[]
  ): Promise<{ manifestDigest: string; layers: { digest: string }[] }> {
    // zstd: the comparisons hold for any one compression, and zstd's is the cheapest to pay five times over.
    const r = await runCli([
      'rechunk',
      src,
      dest,
      '--quiet',
      '--json',
      '--no-prior',
      '--compression',
      'zstd',
      ...flags,
    ]);
    assert.equal(r.code, 0, `rechunk ${src} ${dest} failed: ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as { manifestDigest: string; layers: { digest: string }[] };
  }

  it('rechunking localhost/os:updated from the store gives the layers rechunking oci:CORPUS:updated gives', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const id = await suite.podman!.pull(`oci:${corpusLayout()}:updated`);
    await suite.podman!.podman(['tag', id, 'localhost/os:updated']);
    const out = path.join(suite.out, 'layout');
    const fromStore = await rechunk(storeRef('localhost/os:updated'), `oci:${out}:cs`);
    const fromLayout = await rechunk(`oci:${corpusLayout()}:updated`, `oci:${out}:oci`);
    assert.deepEqual(
      fromStore.layers.map((l) => l.digest),
      fromLayout.layers.map((l) => l.digest),
    );
    assert.equal(
      fromStore.manifestDigest,
      fromLayout.manifestDigest,
      'same config too: the store keeps the config as pulled',
    );
    // By id and by short name as well: podman's lookups.
    const byId = await rechunk(storeRef(id), `oci:${out}:byid`);
    assert.equal(byId.manifestDigest, fromLayout.manifestDigest);
  });

  it('an image written into the store mounts as the true tree', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    if (!(await has('skopeo'))) return t.skip('skopeo is not installed');
    const written = await rechunk(`oci:${corpusLayout()}:updated`, storeRef('localhost/os:rechunked'));
    const images = JSON.parse(await suite.podman!.podman(['images', '--format', 'json'])) as Array<{
      Id: string;
      Names?: string[];
    }>;
    const img = images.find((i) => i.Names?.includes('localhost/os:rechunked'));
    assert.ok(img, `localhost/os:rechunked in ${JSON.stringify(images.map((i) => i.Names))}`);
    const inspect = JSON.parse(await suite.podman!.podman(['image', 'inspect', img.Id])) as Array<{
      RootFS: { Layers: string[] };
    }>;
    assert.equal(inspect[0]!.RootFS.Layers.length, written.layers.length);
    const mounted = await snapshotTree(await suite.podman!.mount(img.Id));
    const diffs = compareTrees(await trueTree('updated'), mounted, { ignore: corpusIgnore });
    assert.equal(diffs.length, 0, `podman shows ${diffs.length} differences:\n${formatDifferences(diffs)}`);
    await suite.podman!.unmount(img.Id);
  });

  it('oci-archive:- streams an archive that podman load takes; the summary goes to stderr', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const archive = path.join(suite.out, 'stdout.tar');
    const { spawn } = await import('node:child_process');
    const { repoRoot } = await import('../helpers/cli.js');
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          path.join(repoRoot, 'bin', 'run.js'),
          'rechunk',
          `oci:${corpusLayout()}:base`,
          'oci-archive:-',
          '--no-prior',
          '--quiet',
          '--max-layers',
          '8',
          '--compression',
          'zstd',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const file = (async () => (await fs.open(archive, 'w')).createWriteStream())();
      void file.then((w) => child.stdout.pipe(w));
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (c) => (c === 0 ? resolve(c) : reject(new Error(`exit ${c}: ${stderr}`))));
    });
    assert.equal(code, 0);
    const loaded = await suite.podman!.podman(['load', '-i', archive]);
    assert.match(loaded, /Loaded image/);
    const head = (await fs.readFile(archive)).subarray(0, 512).toString('latin1');
    assert.doesNotMatch(head, /layers from/, 'stdout holds the archive alone');
  });
});
