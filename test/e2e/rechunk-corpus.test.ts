import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { readTar } from '../../src/tar/reader.js';
import { runCli } from '../helpers/cli.js';
import { CORPUS_TAGS, corpusIgnore, corpusLayout, corpusSuite, trueTree } from '../helpers/corpus.js';
import { compareTrees, formatDifferences, type TreeDifference } from '../helpers/tree-compare.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';
import { has, run, skopeoInspect, umociUnpack } from '../helpers/tools.js';

/**
 * The core promise, checked against the truth: every corpus image, rechunked, pulled by podman
 * (overlay driver) and mounted through the kernel's overlayfs, equals its true tree entry by entry,
 * including the inputs whose own layers make podman shadow directories.
 */
interface Index {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}
interface Manifest {
  layers: { digest: string; size: number; mediaType: string }[];
}

/**
 * The one place where the corpus's true tree disagrees with its own image: after editing etc/motd
 * the build script restores `etc`'s mtime with `touch -d @SECONDS`, dropping the nanoseconds that
 * the image's layers still carry for `etc` (umoci on the original `derived` shows them too). Only
 * that sub-second part of that one mtime is excused.
 */
function corpusQuirk(tag: string, d: TreeDifference): boolean {
  if (tag !== 'derived' || d.path !== 'etc' || d.fields.length !== 1 || d.fields[0]!.field !== 'mtime') return false;
  const expected = d.fields[0]!.expected as bigint;
  const actual = d.fields[0]!.actual as bigint;
  return expected % 1_000_000_000n === 0n && actual / 1_000_000_000n === expected / 1_000_000_000n;
}

describe('rechunk the Debian corpus', () => {
  const suite = corpusSuite('rechunker-e2e');

  async function rechunk(tag: string, dest: string, ...flags: string[]): Promise<string> {
    const r = await runCli(['rechunk', `oci:${corpusLayout()}:${tag}`, `oci:${dest}`, '--quiet', '--json', ...flags]);
    assert.equal(r.code, 0, `rechunk ${tag} failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { manifestDigest: string }).manifestDigest;
  }

  async function manifestOf(layout: string, tag: string): Promise<Manifest> {
    const index = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as Index;
    const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
    assert.ok(entry, `tag ${tag} in ${layout}`);
    return JSON.parse(
      await fs.readFile(path.join(layout, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8'),
    ) as Manifest;
  }

  async function layerPaths(layout: string, digest: string): Promise<string[]> {
    const blob = await fs.readFile(path.join(layout, 'blobs', 'sha256', digest.slice(7)));
    const paths: string[] = [];
    for await (const { entry } of readTar(Readable.from([zlib.gunzipSync(blob)]))) paths.push(entry.path);
    return paths;
  }

  for (const { tag, rootfs } of CORPUS_TAGS) {
    it(`${tag}: podman's mounted tree equals rootfs/${rootfs}; skopeo and umoci accept it`, async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const layout = path.join(suite.out, 'main');
      await rechunk(tag, `${layout}:${tag}`);
      const manifest = await manifestOf(layout, tag);
      assert.ok(manifest.layers.length <= 64 && manifest.layers.length > 1, `layer count ${manifest.layers.length}`);

      const id = await suite.podman!.pull(`oci:${layout}:${tag}`);
      const mounted = await snapshotTree(await suite.podman!.mount(id));
      const diffs = compareTrees(await trueTree(rootfs), mounted, { ignore: corpusIgnore }).filter(
        (d) => !corpusQuirk(tag, d),
      );
      assert.equal(diffs.length, 0, `podman shows ${diffs.length} differences:\n${formatDifferences(diffs)}`);
      await suite.podman!.unmount(id);

      const inspected = await skopeoInspect(`oci:${layout}:${tag}`);
      assert.equal((inspected.Layers as string[]).length, manifest.layers.length);

      if (await has('umoci')) {
        const bundle = path.join(suite.out, `umoci-${tag}`);
        const rootDir = await umociUnpack(layout, tag, bundle);
        const unpacked = await snapshotTree(rootDir);
        // umoci applies layers in order into one directory (OCI semantics, no overlay).
        const udiffs = compareTrees(await trueTree(rootfs), unpacked, { ignore: corpusIgnore }).filter(
          (d) => !corpusQuirk(tag, d),
        );
        assert.equal(udiffs.length, 0, `umoci shows ${udiffs.length} differences:\n${formatDifferences(udiffs)}`);
        await fs.rm(bundle, { recursive: true, force: true });
      }
    });
  }

  it('is reproducible, and the same tree gives the same layers whatever layers it came in', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const again = await rechunk('updated', `${path.join(suite.out, 'again')}:updated`);
    const first = await rechunk('updated', `${path.join(suite.out, 'main')}:updated`);
    assert.equal(again, first, 'two runs give the same manifest digest');
    const fromOne = await manifestOf(path.join(suite.out, 'main'), 'updated');
    await rechunk('updated-diff', `${path.join(suite.out, 'main')}:updated-diff`);
    const fromTwo = await manifestOf(path.join(suite.out, 'main'), 'updated-diff');
    assert.equal(fromTwo.layers.length, fromOne.layers.length);
    // The corpus's diff layer also carries the build script's re-touched `.done` marker, which
    // `updated` leaves out: that one path, and nothing else, may tell the two apart.
    for (const [i, layer] of fromOne.layers.entries()) {
      const other = fromTwo.layers[i]!;
      if (layer.digest === other.digest) continue;
      const a = await layerPaths(path.join(suite.out, 'main'), layer.digest);
      const b = await layerPaths(path.join(suite.out, 'main'), other.digest);
      const onlyB = b.filter((p) => !a.includes(p));
      assert.deepEqual(
        a.filter((p) => !b.includes(p)),
        [],
        `layer ${i}: paths only in updated`,
      );
      assert.deepEqual(onlyB, ['.done'], `layer ${i} differs by more than the corpus marker`);
    }
  });

  for (const max of [8, 16, 64]) {
    it(`--max-layers ${max} is honoured and no hardlink set is split`, async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const layout = path.join(suite.out, `max${max}`);
      await rechunk('derived', `${layout}:derived`, '--max-layers', String(max));
      const manifest = await manifestOf(layout, 'derived');
      assert.ok(manifest.layers.length <= max, `${manifest.layers.length} layers for --max-layers ${max}`);
      if (max < 64) assert.equal(manifest.layers.length, max, 'a tight budget is used in full');

      const layerOf = new Map<string, number>();
      for (const [i, l] of manifest.layers.entries()) {
        const blob = await fs.readFile(path.join(layout, 'blobs', 'sha256', l.digest.slice(7)));
        for await (const { entry } of readTar(Readable.from([zlib.gunzipSync(blob)]))) {
          assert.ok(!layerOf.has(entry.path) || entry.type === 'dir', `${entry.path} appears in two layers`);
          layerOf.set(entry.path, i);
          if (entry.type === 'hardlink')
            assert.equal(layerOf.get(entry.linkname), i, `hardlink ${entry.path} -> ${entry.linkname} crosses layers`);
        }
      }
      const sets = new Set<string>();
      for (const [, e] of await trueTree('derived')) if (e.hardlinks) sets.add(e.hardlinks.join('\0'));
      assert.ok(sets.size > 0, 'the corpus has hardlink sets');
      for (const set of sets) {
        const layers = new Set(set.split('\0').map((p) => layerOf.get(p)));
        assert.equal(layers.size, 1, `hardlink set ${set.replace(/\0/g, ', ')} spans layers ${[...layers].join(', ')}`);
      }
    });
  }

  it('keeps the run configuration and records the plan', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const r = await run('skopeo', ['inspect', '--config', `oci:${path.join(suite.out, 'main')}:updated`]);
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(r.stdout) as {
      config?: { Labels?: Record<string, string> };
      history: unknown[];
      rootfs: { diff_ids: string[] };
    };
    const plan = JSON.parse(config.config?.Labels?.['dev.rechunker.plan'] ?? 'null') as {
      layers: { components: string[] }[];
    } | null;
    assert.ok(plan && plan.layers.length > 0, 'plan label present');
    assert.equal(config.history.length, config.rootfs.diff_ids.length, 'one history entry per layer');
    assert.ok(
      plan.layers.some((l) => l.components.includes('deb:systemd')),
      'systemd is a component',
    );
  });
});
