import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VerifyResult } from '../../src/engine/verify-images.js';
import type { Difference } from '../../src/verify/compare.js';
import { runCli } from '../helpers/cli.js';
import { corpusLayout, corpusRootfs, corpusSuite, trueTree, type CorpusRootfs } from '../helpers/corpus.js';
import { compareTrees, type TreeDifference } from '../helpers/tree-compare.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';

/**
 * `verify --model overlay` predicts what an overlay runtime shows; podman (overlay driver, the
 * kernel's overlayfs) shows it. For every corpus tag and for `derived` rechunked in each
 * --parent-dirs mode, the set of differences from the true tree must be the same both ways.
 * A directory podman made while pulling has an mtime at or after the pull started: that is the
 * model's "unpack-time".
 */

/** One difference as a comparable key: path, then the fields that differ. */
type Key = string;

/** Hardlink sets are compared per set by verify and per path by the helper: counted apart. */
function keysOfPodman(diffs: TreeDifference[], pullStartNs: bigint): { keys: Set<Key>; hardlinks: number } {
  const keys = new Set<Key>();
  let hardlinks = 0;
  for (const d of diffs) {
    const fields = d.fields
      .filter((f) => f.field !== 'size' && f.field !== 'hardlinks')
      .map((f) => (f.field === 'mtime' && (f.actual as bigint) >= pullStartNs ? 'mtime=unpack-time' : f.field));
    if (d.fields.some((f) => f.field === 'hardlinks')) hardlinks++;
    if (fields.length > 0) keys.add(`${d.path} ${fields.sort().join(',')}`);
  }
  return { keys, hardlinks };
}

/** verify ran with A = the image, B = the true tree: only-a is an extra path, only-b a missing one. */
function keysOfVerify(diffs: Difference[]): { keys: Set<Key>; hardlinks: number } {
  const keys = new Set<Key>();
  let hardlinks = 0;
  for (const d of diffs) {
    const fields =
      d.kind === 'only-a'
        ? ['extra']
        : d.kind === 'only-b'
          ? ['missing']
          : d.fields
              .filter((f) => f.field !== 'hardlinks')
              .map((f) => (f.field === 'mtime' && f.a === 'unpack-time' ? 'mtime=unpack-time' : f.field));
    if (d.fields.some((f) => f.field === 'hardlinks')) hardlinks++;
    if (fields.length > 0) keys.add(`${d.path} ${fields.sort().join(',')}`);
  }
  return { keys, hardlinks };
}

/**
 * Where the corpus's true tree disagrees with its own images (see rechunk-corpus.test.ts): the
 * build marker `.done`, and `etc` of `derived`, whose nanoseconds the build script's `touch -d`
 * dropped. Only for the "no differences" claims; the agreement check keeps them (both sides see them).
 */
function quirk(d: Difference): boolean {
  if (d.path === '.done') return true;
  if (d.path !== 'etc' || d.kind !== 'differs' || d.fields.length !== 1 || d.fields[0]!.field !== 'mtime') return false;
  return d.fields[0]!.a.startsWith(d.fields[0]!.b.replace(/Z$/, ''));
}

function setDiff(a: Set<Key>, b: Set<Key>): string[] {
  return [...a].filter((k) => !b.has(k)).slice(0, 10);
}

describe('parent directories: verify --model overlay agrees with podman', () => {
  const suite = corpusSuite('rechunker-e2e-pd');

  async function verify(ref: string, rootfs: CorpusRootfs): Promise<VerifyResult> {
    const r = await runCli(['verify', ref, `rootfs:${corpusRootfs(rootfs)}`, '--model', 'all', '--json', '--quiet']);
    assert.ok(r.code === 0 || r.code === 1, `verify ${ref}: exit ${r.code}: ${r.stderr}`);
    const result = JSON.parse(r.stdout) as VerifyResult;
    assert.equal(r.code, result.differences > 0 ? 1 : 0, 'exit status 1 exactly when there are differences');
    return result;
  }

  async function podmanView(ref: string, rootfs: CorpusRootfs): Promise<{ keys: Set<Key>; hardlinks: number }> {
    const start = BigInt(Date.now() - 1000) * 1_000_000n;
    const id = await suite.podman!.pull(ref);
    const mounted = await snapshotTree(await suite.podman!.mount(id));
    const diffs = compareTrees(await trueTree(rootfs), mounted);
    await suite.podman!.unmount(id);
    return keysOfPodman(diffs, start);
  }

  /** Runs verify and podman side by side; asserts they agree; returns verify's result. */
  async function agree(ref: string, rootfs: CorpusRootfs, t: { diagnostic(msg: string): void }): Promise<VerifyResult> {
    const [result, seen] = await Promise.all([verify(ref, rootfs), podmanView(ref, rootfs)]);
    const predicted = keysOfVerify(result.models.find((m) => m.model === 'overlay')!.differences);
    assert.deepEqual(
      { predictedOnly: setDiff(predicted.keys, seen.keys), podmanOnly: setDiff(seen.keys, predicted.keys) },
      { predictedOnly: [], podmanOnly: [] },
      `${ref}: the overlay model and podman disagree`,
    );
    assert.equal(predicted.keys.size, seen.keys.size);
    assert.equal(predicted.hardlinks > 0, seen.hardlinks > 0, 'hardlink differences on both sides or neither');
    const shadowed = result.models
      .find((m) => m.model === 'overlay')!
      .differences.filter((d) => d.kind === 'shadowed').length;
    t.diagnostic(
      `${ref}: overlay model ${predicted.keys.size} differences (${shadowed} shadowed), podman ${seen.keys.size}, identical sets`,
    );
    return result;
  }

  const differences = (r: VerifyResult, model: string) =>
    r.models.find((m) => m.model === model)!.differences.filter((d) => !quirk(d));

  const INPUTS: Array<{ tag: string; rootfs: CorpusRootfs; shadowed: boolean }> = [
    { tag: 'base', rootfs: 'base', shadowed: false },
    { tag: 'updated', rootfs: 'updated', shadowed: false },
    { tag: 'updated-diff', rootfs: 'updated', shadowed: true },
    { tag: 'derived', rootfs: 'derived', shadowed: true },
  ];
  for (const { tag, rootfs, shadowed } of INPUTS) {
    it(`corpus ${tag}: predicted and podman's differences from rootfs/${rootfs} are the same`, async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const r = await agree(`oci:${corpusLayout()}:${tag}`, rootfs, t);
      const overlay = differences(r, 'overlay');
      assert.equal(overlay.length > 0, shadowed, `${tag}: ${overlay.length} overlay differences`);
      assert.ok(
        overlay.every((d) => d.kind === 'shadowed'),
        'only shadowed directories',
      );
      assert.deepEqual(differences(r, 'oci'), [], 'the OCI model gives the true tree');
      assert.deepEqual(differences(r, 'delegate'), [], 'dirmeta_delegate would give the true tree');
    });
  }

  for (const mode of ['top-layer', 'every-layer', 'delegate']) {
    it(`derived rechunked --parent-dirs ${mode}: the models, podman and the warning agree`, async (t) => {
      if (suite.skip) return t.skip(suite.skip);
      const ref = `oci:${suite.out}:${mode}`;
      // Uncompressed layers: the directory semantics do not depend on compression, and the run is faster.
      const rc = await runCli([
        'rechunk',
        `oci:${corpusLayout()}:derived`,
        ref,
        '--parent-dirs',
        mode,
        '--compression',
        'none',
        '--quiet',
      ]);
      assert.equal(rc.code, 0, rc.stderr);
      const r = await agree(ref, 'derived', t);
      assert.equal(r.a.parentDirs, mode, 'the mode is recorded in the manifest annotation');
      assert.deepEqual(differences(r, 'oci'), []);
      assert.deepEqual(differences(r, 'delegate'), []);
      const overlay = differences(r, 'overlay');
      const warned = /warning: --parent-dirs delegate: (\d+) directories/.exec(rc.stderr);
      if (mode === 'delegate') {
        assert.ok(overlay.length > 0 && overlay.every((d) => d.kind === 'shadowed' && d.type === 'dir'));
        assert.equal(Number(warned?.[1]), overlay.length, 'the warning counts exactly the shadowed directories');
      } else {
        assert.deepEqual(overlay, [], "exact on today's runtimes");
        assert.equal(warned, null);
      }
    });
  }
});
