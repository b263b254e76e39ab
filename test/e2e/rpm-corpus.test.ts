import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { readTar } from '../../src/tar/reader.js';
import { runCli } from '../helpers/cli.js';
import { scratchDir } from '../helpers/corpus.js';
import { Podman } from '../helpers/podman.js';
import { has, runOk } from '../helpers/tools.js';
import { compareTrees, formatDifferences } from '../helpers/tree-compare.js';
import { snapshotTree, type TreeEntry } from '../helpers/tree-snapshot.js';

/**
 * The rpm corpus (corpus/build-rpm-images.sh, built by .ci/run): binary rpms built by rpmbuild and
 * installed by real rpm into an sqlite rpmdb, then upgraded with `rpm -U`. Rechunked, each tag must
 * mount in podman exactly as its true tree; the components must be the database's packages, grouped
 * by SOURCERPM; an update must reuse the layers of the packages it did not upgrade; and in the
 * ostree tree a hardlink set spanning /usr and the ostree repository must stay in one layer.
 */
const CORPUS = process.env.RECHUNKER_RPM_CORPUS ?? '/var/tmp/rechunker-rpm-corpus';
const LAYOUT = path.join(CORPUS, 'rpm-oci');
const DBPATH = '/usr/lib/sysimage/rpm';
const TAGS = [
  { tag: 'base', rootfs: 'base' },
  { tag: 'updated', rootfs: 'updated', prior: 'base' },
  { tag: 'updated-diff', rootfs: 'updated', prior: 'base' },
] as const;
/** What the script upgrades from base to updated: only their layers may change. */
const UPGRADED_SOURCES = ['corelib', 'iputils-lite', 'tzdata-lite'];

interface Manifest {
  config: { digest: string };
  layers: { digest: string }[];
}
interface RpmInfo {
  sourceRpm: string;
  files: string[];
}
interface PlanComponent {
  name: string;
  kind: string;
  group?: string;
  paths?: string[];
}

async function skipReason(): Promise<string | undefined> {
  if (!existsSync(path.join(LAYOUT, 'index.json'))) {
    return `no rpm corpus at ${CORPUS} (build it with corpus/build-rpm-images.sh)`;
  }
  if (process.getuid?.() !== 0) return 'needs root (podman with the overlay driver, ownership of the true trees)';
  for (const tool of ['rpm', 'rpmbuild', 'podman', 'getfattr']) {
    if (!(await has(tool))) return `${tool} is not installed`;
  }
  return undefined;
}

const blob = (layout: string, digest: string): Promise<Buffer> =>
  fs.readFile(path.join(layout, 'blobs', 'sha256', digest.slice(7)));

async function manifestOf(layout: string, tag: string): Promise<Manifest> {
  const index = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.ok(entry, `tag ${tag} in ${layout}`);
  return JSON.parse((await blob(layout, entry.digest)).toString('utf8')) as Manifest;
}

/** Components of each layer, from the plan label the rechunked image carries. */
async function planLayers(layout: string, tag: string): Promise<string[][]> {
  const config = JSON.parse((await blob(layout, (await manifestOf(layout, tag)).config.digest)).toString('utf8')) as {
    config?: { Labels?: Record<string, string> };
  };
  const label = config.config?.Labels?.['dev.rechunker.plan'] ?? 'null';
  const plan = JSON.parse(label) as { layers: { components: string[] }[] } | null;
  assert.ok(plan, `${tag} carries a plan label`);
  return plan.layers.map((l) => l.components);
}

/** Path -> index of the layer holding it (directories may repeat; any other path must not). */
async function layerOfPaths(layout: string, tag: string): Promise<Map<string, number>> {
  const layerOf = new Map<string, number>();
  for (const [i, l] of (await manifestOf(layout, tag)).layers.entries()) {
    for await (const { entry } of readTar(Readable.from([zlib.gunzipSync(await blob(layout, l.digest))]))) {
      assert.ok(!layerOf.has(entry.path) || entry.type === 'dir', `${entry.path} appears in two layers`);
      if (entry.type !== 'dir') layerOf.set(entry.path, i);
    }
  }
  return layerOf;
}

/**
 * What the database of a true tree says, through rpm itself: NAME -> source rpm and file list. rpm
 * reads a copy: even a query rewrites rpmdb.sqlite-shm, and the true tree must stay as imaged.
 */
async function rpmPackages(root: string, scratch: string): Promise<Map<string, RpmInfo>> {
  const copy = await fs.mkdtemp(path.join(scratch, 'rpmdb-'));
  await fs.mkdir(path.join(copy, path.dirname(DBPATH)), { recursive: true });
  await runOk('cp', ['-a', path.join(root, DBPATH), path.join(copy, DBPATH)]);
  const q = async (args: string[]): Promise<string> =>
    (await runOk('rpm', ['--root', copy, '--dbpath', DBPATH, ...args])).stdout;
  const out = new Map<string, RpmInfo>();
  for (const line of (await q(['-qa', '--qf', '%{NAME} %{SOURCERPM}\\n'])).split('\n').filter(Boolean)) {
    const [name, sourceRpm] = line.split(' ') as [string, string];
    const files = (await q(['-ql', name])).split('\n').filter((p) => p.startsWith('/'));
    out.set(name, { sourceRpm, files: files.map((p) => p.slice(1)) });
  }
  await fs.rm(copy, { recursive: true, force: true });
  return out;
}

describe('rechunk the rpm corpus', () => {
  let skip: string | undefined;
  let podman: Podman | undefined;
  let out = '';
  const built = new Set<string>();
  const truths = new Map<string, Promise<Map<string, TreeEntry>>>();
  const truth = (name: string): Promise<Map<string, TreeEntry>> => {
    if (!truths.has(name)) truths.set(name, snapshotTree(path.join(CORPUS, 'rootfs', name)));
    return truths.get(name)!;
  };

  before(async () => {
    skip = await skipReason();
    if (skip) return;
    podman = await Podman.create();
    out = await scratchDir('rechunker-rpm-e2e');
  });
  after(async () => {
    await podman?.cleanup();
    if (out) await fs.rm(out, { recursive: true, force: true });
  });

  async function rechunk(source: string, tag: string, ...flags: string[]): Promise<void> {
    const r = await runCli(['rechunk', source, `oci:${out}/main:${tag}`, '--quiet', '--json', ...flags]);
    assert.equal(r.code, 0, `rechunk ${source} failed: ${r.stderr}`);
    built.add(tag);
  }

  const priorFlags = (prior?: string): string[] => (prior ? ['--prior', `oci:${out}/main:${prior}`] : []);

  /** A corpus tag rechunked into the scratch layout, unless an earlier test did it. */
  async function rechunked(tag: string, prior?: string): Promise<void> {
    if (!built.has(tag)) await rechunk(`oci:${LAYOUT}:${tag}`, tag, ...priorFlags(prior));
  }

  async function assertMountEquals(tag: string, expected: Map<string, TreeEntry>): Promise<void> {
    const id = await podman!.pull(`oci:${out}/main:${tag}`);
    const mounted = await snapshotTree(await podman!.mount(id));
    const diffs = compareTrees(expected, mounted, { ignore: (p) => p === '.done' });
    await podman!.unmount(id);
    assert.equal(diffs.length, 0, `${tag}: podman shows ${diffs.length} differences:\n${formatDifferences(diffs)}`);
  }

  for (const { tag, rootfs, ...rest } of TAGS) {
    const prior = 'prior' in rest ? rest.prior : undefined;
    it(`${tag}${prior ? ` (--prior ${prior})` : ''}: podman's mounted tree equals rootfs/${rootfs}`, async (t) => {
      if (skip) return t.skip(skip);
      if (prior) await rechunked(prior);
      await rechunk(`oci:${LAYOUT}:${tag}`, tag, ...priorFlags(prior));
      assert.ok((await manifestOf(`${out}/main`, tag)).layers.length > 1, 'more than one layer');
      await assertMountEquals(tag, await truth(rootfs));
    });
  }

  it('has one rpm:NAME component per package, with rpm -ql as its paths, grouped by source rpm', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runCli(['plan', `oci:${LAYOUT}:updated`, '--json', '--paths', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const components = (JSON.parse(r.stdout) as { components: PlanComponent[] }).components;
    const byName = new Map(components.map((c) => [c.name, c]));
    const root = path.join(CORPUS, 'rootfs', 'updated');
    const packages = await rpmPackages(root, out);
    assert.ok(packages.size >= 12, `${packages.size} packages installed`);
    const tree = await truth('updated');
    for (const [name, { sourceRpm, files }] of packages) {
      const c = byName.get(`rpm:${name}`);
      assert.ok(c, `component rpm:${name}`);
      assert.equal(c.kind, 'rpm');
      const source = sourceRpm.replace(/-[^-]+-[^-]+\.src\.rpm$/, '');
      assert.equal(c.group, `rpm:${source}`, `group of rpm:${name} (${sourceRpm})`);
      // Directories are left to the directory layer; every other listed path is the package's.
      const expected = files.filter((f) => tree.get(f)?.type !== 'dir').sort();
      assert.deepEqual([...(c.paths ?? [])].sort(), expected, `paths of rpm:${name}`);
    }
    const rpmComponents = components.filter((c) => c.kind === 'rpm').map((c) => c.name);
    const expectedNames = [...packages.keys()].map((n) => `rpm:${n}`).sort();
    assert.deepEqual(rpmComponents.sort(), expectedNames, 'no rpm component without a package');
    const pkgdb = byName.get('pkgdb')?.paths ?? [];
    const dbHeld = pkgdb.includes('usr/lib/sysimage/rpm/rpmdb.sqlite') && pkgdb.includes('var/lib/rpm');
    assert.ok(dbHeld, `pkgdb holds ${pkgdb.join(', ')}`);
    const groups = new Set(components.filter((c) => c.kind === 'rpm').map((c) => c.group));
    assert.ok(groups.size < rpmComponents.length, 'some source rpms build several binary rpms');
  });

  it('the update (--prior base) keeps the layers of every package it did not upgrade', async (t) => {
    if (skip) return t.skip(skip);
    await rechunked('base');
    await rechunked('updated', 'base');
    const base = await manifestOf(`${out}/main`, 'base');
    const updated = await manifestOf(`${out}/main`, 'updated');
    const have = new Set(base.layers.map((l) => l.digest));
    const fetched = updated.layers.filter((l) => !have.has(l.digest)).length;
    const total = updated.layers.length;
    assert.ok(fetched > 0 && fetched < total, `update fetches ${fetched} of ${total} layers`);

    const plan = await planLayers(`${out}/main`, 'updated');
    const packages = await rpmPackages(path.join(CORPUS, 'rootfs', 'updated'), out);
    const upgraded = new Set<string>();
    for (const [name, p] of packages) {
      if (UPGRADED_SOURCES.some((s) => p.sourceRpm.startsWith(`${s}-`))) upgraded.add(`rpm:${name}`);
    }
    plan.forEach((components, i) => {
      const changes = components.some((c) => upgraded.has(c) || c === 'pkgdb');
      const reused = have.has(updated.layers[i]!.digest);
      if (!changes) assert.ok(reused, `layer ${i} (${components.join(' ')}) is new, though none of it was upgraded`);
    });
    // A source rpm's binaries share a layer, so an upgrade of corelib touches one layer, not three.
    const corelib = plan.findIndex((c) => c.includes('rpm:corelib'));
    const together = ['rpm:corelib-devel', 'rpm:corelib-tools'].every((c) => plan[corelib]!.includes(c));
    assert.ok(together, `corelib's layer: ${plan[corelib]?.join(' ')}`);
  });

  it('ostree: hardlinks across /usr and sysroot/ostree/repo stay in one layer; podman shows the tree', async (t) => {
    if (skip) return t.skip(skip);
    const root = path.join(CORPUS, 'rootfs', 'ostree');
    if (!existsSync(path.join(root, 'sysroot', 'ostree', 'repo', 'objects'))) {
      return t.skip(`no ${root} (ostree was not installed when the corpus was built)`);
    }
    await rechunk(`rootfs:${root}`, 'ostree');
    const source = await snapshotTree(root);
    const sets = new Set<string>();
    for (const e of source.values()) if (e.hardlinks) sets.add(e.hardlinks.join('\0'));
    const spanning = [...sets].filter((s) => s.includes('usr/') && s.includes('sysroot/ostree/repo/objects/'));
    assert.ok(spanning.length >= 100, `${spanning.length} hardlink sets span /usr and the ostree repository`);
    const layerOf = await layerOfPaths(`${out}/main`, 'ostree');
    for (const set of sets) {
      const layers = new Set(set.split('\0').map((p) => layerOf.get(p)));
      assert.equal(layers.size, 1, `hardlink set ${set.replace(/\0/g, ', ')} spans layers ${[...layers].join(', ')}`);
    }
    await assertMountEquals('ostree', source);
  });
});
