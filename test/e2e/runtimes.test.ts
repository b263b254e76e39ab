import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VerifyResult } from '../../src/engine/verify-images.js';
import { ContentStore } from '../../src/graph/content-store.js';
import { readTar } from '../../src/tar/reader.js';
import type { Difference } from '../../src/verify/compare.js';
import { UNPACK_TIME, type FlatTree } from '../../src/verify/flat-tree.js';
import { layerTree } from '../../src/verify/layer-trees.js';
import { mergeOverlay } from '../../src/verify/merge-overlay.js';
import { runCli } from '../helpers/cli.js';
import { Containerd, containerdSkipReason } from '../helpers/containerd.js';
import {
  corpusIgnore,
  corpusLayout,
  corpusRootfs,
  corpusSkipReason,
  scratchDir,
  trueTree,
  type CorpusRootfs,
  type CorpusTag,
} from '../helpers/corpus.js';
import { PROBE_LAYERS } from '../helpers/implied-dirs-probe.js';
import { makeImage } from '../helpers/make-image.js';
import { makeTar } from '../helpers/make-tar.js';
import { Moby, mobySkipReason } from '../helpers/moby.js';
import type { HeldMount } from '../helpers/overlay-mount.js';
import { registryAvailable, startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { compareTrees, formatDifferences, type TreeDifference } from '../helpers/tree-compare.js';
import { snapshotTree, type TreeEntry } from '../helpers/tree-snapshot.js';

/**
 * Beside podman, the two other runtimes people pull with: moby (dockerd 20.10, overlay2) and
 * containerd (1.6, overlayfs snapshotter), each a private daemon started here, pulling from a
 * loopback registry. The tree each one stacks, mounted through the kernel's overlayfs, must be
 * the true tree; in `--parent-dirs delegate` mode it must differ exactly where verify predicts,
 * with the model of that runtime (`overlay` for moby, `containerd` for containerd).
 *
 * Coverage, to stay within a few minutes on two cores: every --parent-dirs mode on `updated`, and
 * `derived` (four layers of input, a tree of its own) in the default mode. `updated-diff` flattens
 * to `updated`'s tree and `base` differs from it by a few packages, so their outputs add no case
 * (podman checks every tag in rechunk-corpus.test.ts); all tags in all modes took too long.
 */
type Mode = 'top-layer' | 'every-layer' | 'delegate';
const CASES: ReadonlyArray<{ tag: CorpusTag; rootfs: CorpusRootfs; mode: Mode }> = [
  { tag: 'updated', rootfs: 'updated', mode: 'top-layer' },
  { tag: 'updated', rootfs: 'updated', mode: 'every-layer' },
  { tag: 'updated', rootfs: 'updated', mode: 'delegate' },
  { tag: 'derived', rootfs: 'derived', mode: 'top-layer' },
];

interface Runtime {
  name: 'moby' | 'containerd';
  /** verify's model of how this runtime makes a directory a layer only implies */
  model: 'overlay' | 'containerd';
  pull(ref: string): Promise<void>;
  mount(ref: string, target: string): Promise<HeldMount>;
}

/** `etc` of `derived`: the corpus script's `touch -d` dropped nanoseconds its image keeps (rechunk-corpus.test.ts). */
function corpusQuirk(rootfs: CorpusRootfs, d: TreeDifference): boolean {
  if (rootfs !== 'derived' || d.path !== 'etc' || d.fields.length !== 1 || d.fields[0]!.field !== 'mtime') return false;
  const expected = d.fields[0]!.expected as bigint;
  return (
    expected % 1_000_000_000n === 0n && (d.fields[0]!.actual as bigint) / 1_000_000_000n === expected / 1_000_000_000n
  );
}

/** A difference as `path field,field`; an mtime at or after the pull began is the unpack time. */
function seenKeys(diffs: TreeDifference[], pullStartNs: bigint): Set<string> {
  const keys = new Set<string>();
  for (const d of diffs) {
    const fields = d.fields
      .filter((f) => f.field !== 'size' && f.field !== 'hardlinks')
      .map((f) => (f.field === 'mtime' && (f.actual as bigint) >= pullStartNs ? 'mtime=unpack-time' : f.field));
    if (fields.length > 0) keys.add(`${d.path} ${fields.sort().join(',')}`);
  }
  return keys;
}

function predictedKeys(diffs: Difference[]): Set<string> {
  const keys = new Set<string>();
  for (const d of diffs) {
    if (d.path === '.done') continue;
    const fields =
      d.kind === 'only-a'
        ? ['extra']
        : d.kind === 'only-b'
          ? ['missing']
          : d.fields
              .filter((f) => f.field !== 'hardlinks')
              .map((f) => (f.field === 'mtime' && f.a === 'unpack-time' ? 'mtime=unpack-time' : f.field));
    if (fields.length > 0) keys.add(`${d.path} ${fields.sort().join(',')}`);
  }
  return keys;
}

const only = (a: Set<string>, b: Set<string>) => [...a].filter((k) => !b.has(k)).slice(0, 10);

/** verify's tree of a stack of layer tars under one model. */
async function modelTree(tars: Buffer[], model: 'overlay' | 'containerd', work: string): Promise<FlatTree> {
  await mkdir(work, { recursive: true });
  const store = await ContentStore.create(work);
  try {
    const layers = [];
    for (const [i, tar] of tars.entries()) layers.push(await layerTree(readTar([tar]), store, i, `layer ${i}`));
    return mergeOverlay(layers, model);
  } finally {
    await store.close();
  }
}

/** Where a mounted tree and a model's tree disagree, one line each; unpack-time is "at or after the pull". */
function mismatches(model: FlatTree, seen: Map<string, TreeEntry>, pullStartNs: bigint): string[] {
  const out: string[] = [];
  for (const p of new Set([...model.keys(), ...seen.keys()])) {
    const m = model.get(p);
    const s = seen.get(p);
    if (!m || !s) {
      out.push(`${p}: ${m ? 'not mounted' : 'not in the model'}`);
      continue;
    }
    const mtimeOk = m.mtime === UNPACK_TIME ? s.mtimeNs >= pullStartNs : s.mtimeNs === m.mtime;
    const xattrs = (x: Map<string, string>) =>
      [...x]
        .sort()
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
    const modelX = new Map([...m.xattrs].map(([k, v]) => [k, v.toString('hex')] as const));
    if (
      m.type !== s.type ||
      m.mode !== s.mode ||
      m.uid !== s.uid ||
      m.gid !== s.gid ||
      !mtimeOk ||
      xattrs(modelX) !== xattrs(s.xattrs)
    ) {
      out.push(
        `${p}: model ${m.type} ${m.mode.toString(8)} ${m.uid}:${m.gid} ${String(m.mtime)} [${xattrs(modelX)}], ` +
          `mounted ${s.type} ${s.mode.toString(8)} ${s.uid}:${s.gid} ${s.mtimeNs} [${xattrs(s.xattrs)}]`,
      );
    }
  }
  return out.sort();
}

describe('moby and containerd pull the rechunked corpus and show the true tree', () => {
  let skip: string | undefined;
  const skipped = new Map<Runtime['name'], string>();
  let registry: RegistryServer | undefined;
  let containerd: Containerd | undefined;
  let moby: Moby | undefined;
  let out = '';
  const runtimes: Runtime[] = [];

  /** Starts a daemon, or records why it is skipped: it cannot run here, or it did not start. */
  async function startOrSay<T>(
    name: Runtime['name'],
    why: string | undefined,
    start: () => Promise<T>,
  ): Promise<T | undefined> {
    if (why) {
      skipped.set(name, why);
      return undefined;
    }
    try {
      return await start();
    } catch (e) {
      skipped.set(name, `${name} did not start: ${String(e)}`);
      return undefined;
    }
  }

  before(async () => {
    skip = (await corpusSkipReason()) ?? (registryAvailable() ? undefined : 'docker-registry is not installed');
    if (skip) return;
    registry = await startRegistry();
    out = await scratchDir('rechunker-e2e-rt');
    containerd = await startOrSay('containerd', await containerdSkipReason(), () => Containerd.start());
    const mobyWhy =
      (await mobySkipReason()) ?? (containerd ? undefined : 'dockerd needs the containerd that did not start');
    moby = await startOrSay('moby', mobyWhy, () => Moby.start(containerd!, { insecureRegistries: [registry!.host] }));
    if (moby)
      runtimes.push({ name: 'moby', model: 'overlay', pull: (r) => moby!.pull(r), mount: (r, t) => moby!.mount(r, t) });
    if (containerd)
      runtimes.push({
        name: 'containerd',
        model: 'containerd',
        pull: (r) => containerd!.pull(r),
        mount: (r, t) => containerd!.mount(r, t),
      });
    if (runtimes.length === 0) skip = [...skipped.values()].join('; ');
  });
  after(async () => {
    await moby?.cleanup();
    await containerd?.cleanup();
    await registry?.stop();
    if (out) await rm(out, { recursive: true, force: true });
  });

  const note = (t: { diagnostic(m: string): void }) => {
    for (const [name, why] of skipped) t.diagnostic(`${name} skipped: ${why}`);
  };

  /** Pulls `ref` into a runtime and snapshots its merged tree; the mount is released after. */
  async function view(
    rt: Runtime,
    ref: string,
    label: string,
  ): Promise<{ tree: Map<string, TreeEntry>; pullStartNs: bigint }> {
    const pullStartNs = BigInt(Date.now() - 1000) * 1_000_000n;
    await rt.pull(ref);
    const held = await rt.mount(ref, path.join(out, `mnt-${rt.name}-${label}`));
    try {
      return { tree: await snapshotTree(held.root), pullStartNs };
    } finally {
      await held.release();
    }
  }

  it('implied directories: each runtime makes them exactly as its verify model says', async (t) => {
    if (skip) return t.skip(skip);
    note(t);
    const layout = path.join(out, 'probe');
    const tars = await Promise.all(PROBE_LAYERS.map((l) => makeTar(l)));
    await makeImage(layout, 'probe', tars, { compression: 'none' });
    const ref = `${registry!.host}/probe:implied`;
    const cp = await runCli(['copy', `oci:${layout}:probe`, `docker://${ref}`, '--tls-verify=false', '--quiet']);
    assert.equal(cp.code, 0, cp.stderr);
    await Promise.all(
      runtimes.map(async (rt) => {
        const { tree, pullStartNs } = await view(rt, ref, 'probe');
        const model = await modelTree(tars, rt.model, path.join(out, `probe-${rt.name}`));
        assert.deepEqual(mismatches(model, tree, pullStartNs), [], `${rt.name} against verify's ${rt.model} model`);
        assert.equal(
          tree.get('a')!.mode,
          rt.model === 'containerd' ? 0o750 : 0o755,
          'the probe tells the models apart',
        );
      }),
    );
  });

  for (const { tag, rootfs, mode } of CASES) {
    const claim = mode === 'delegate' ? 'differ where verify predicts' : `equal rootfs/${rootfs}`;
    it(`${tag} rechunked --parent-dirs ${mode}: the merged trees ${claim}`, async (t) => {
      if (skip) return t.skip(skip);
      note(t);
      const ref = `${registry!.host}/os:${tag}-${mode}`;
      // One case as users run it (gzip); the others uncompressed, which is faster and changes
      // nothing about the trees.
      const compression = tag === 'updated' && mode === 'top-layer' ? [] : ['--compression', 'none'];
      const rc = await runCli([
        'rechunk',
        `oci:${corpusLayout()}:${tag}`,
        `docker://${ref}`,
        '--parent-dirs',
        mode,
        '--tls-verify=false',
        '--quiet',
        ...compression,
      ]);
      assert.equal(rc.code, 0, rc.stderr);
      const verified =
        mode !== 'delegate'
          ? undefined
          : runCli([
              'verify',
              `docker://${ref}`,
              `rootfs:${corpusRootfs(rootfs)}`,
              '--model',
              'all',
              '--tls-verify=false',
              '--json',
              '--quiet',
            ]);
      const truth = await trueTree(rootfs);
      const views = await Promise.all(runtimes.map(async (rt) => ({ rt, ...(await view(rt, ref, `${tag}-${mode}`)) })));
      const verifyRun = await verified;
      if (verifyRun) assert.equal(verifyRun.code, 1, `verify finds the shadowed directories: ${verifyRun.stderr}`);
      const result = verifyRun ? (JSON.parse(verifyRun.stdout) as VerifyResult) : undefined;
      for (const { rt, tree, pullStartNs } of views) {
        const diffs = compareTrees(truth, tree, { ignore: corpusIgnore }).filter((d) => !corpusQuirk(rootfs, d));
        if (!result) {
          assert.equal(diffs.length, 0, `${rt.name} shows ${diffs.length} differences:\n${formatDifferences(diffs)}`);
          continue;
        }
        const predicted = predictedKeys(result.models.find((m) => m.model === rt.model)!.differences);
        const seen = seenKeys(diffs, pullStartNs);
        assert.deepEqual(
          { predictedOnly: only(predicted, seen), seenOnly: only(seen, predicted) },
          { predictedOnly: [], seenOnly: [] },
          `${rt.name} and verify --model ${rt.model} disagree`,
        );
        assert.ok(seen.size > 0, 'delegate mode leaves directories implied');
        t.diagnostic(`${rt.name}: ${seen.size} differences, each predicted by verify --model ${rt.model}`);
      }
    });
  }
});
