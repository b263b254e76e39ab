import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { readTar } from '../../src/tar/reader.js';
import { runCli } from '../helpers/cli.js';
import { corpusIgnore, corpusLayout, corpusRootfs, corpusSkipReason, hasCorpus } from '../helpers/corpus.js';
import { END, rawEntry } from '../helpers/make-tar.js';
import { Podman } from '../helpers/podman.js';
import { compareTrees, formatDifferences } from '../helpers/tree-compare.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';
import { has, runOk, umociUnpack } from '../helpers/tools.js';
import { makeTree, treeSkipReason, type MadeTree } from '../rootfs/make-tree.js';

/**
 * rootfs: and oci-archive: through the built CLI, checked by independent tools: umoci and
 * podman's overlay mount must show the tree that was read, and skopeo must read and write the
 * archives we read and write.
 */
interface Index {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}
interface Manifest {
  layers: { digest: string }[];
}

let out: string;
let podman: Podman | undefined;
before(async () => {
  // podman wants lowercase repository names.
  out = `/var/tmp/rechunker-e2e-rootfs-${process.pid}-${Date.now().toString(36)}`;
  await fs.mkdir(out, { recursive: true });
});
after(async () => {
  await podman?.cleanup();
  await fs.rm(out, { recursive: true, force: true });
});

async function getPodman(): Promise<Podman> {
  podman ??= await Podman.create();
  return podman;
}

async function rechunk(src: string, dest: string, ...flags: string[]): Promise<string> {
  const r = await runCli(['rechunk', src, dest, '--quiet', '--json', ...flags]);
  assert.equal(r.code, 0, `rechunk ${src} ${dest} failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { manifestDigest: string }).manifestDigest;
}

async function manifestOf(layout: string, tag: string): Promise<Manifest> {
  const index = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as Index;
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.ok(entry, `tag ${tag} in ${layout}`);
  return JSON.parse(await fs.readFile(path.join(layout, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8')) as Manifest;
}

async function layerPaths(layout: string, digest: string): Promise<string[]> {
  const blob = await fs.readFile(path.join(layout, 'blobs', 'sha256', digest.slice(7)));
  const paths: string[] = [];
  for await (const { entry } of readTar(Readable.from([zlib.gunzipSync(blob)]))) paths.push(entry.path);
  return paths;
}

describe('rootfs: as a source', () => {
  let made: MadeTree | undefined;
  let skip: string | undefined;
  before(async () => {
    skip = await treeSkipReason();
    if (!skip && !(await has('umoci'))) skip = 'umoci is not installed';
    if (!skip) made = await makeTree(path.join(out, 'tree'));
  });
  after(() => made?.socket.close());

  it('a tree made here comes back entry by entry through umoci and podman (modes, owners, ns mtimes, xattrs, devices, hardlinks, odd names)', async (t) => {
    if (skip) return t.skip(skip);
    const layout = path.join(out, 'tree-oci');
    await rechunk(`rootfs:${made!.root}`, `oci:${layout}:t`);
    const truth = await snapshotTree(made!.root);
    const ignore = (p: string) => p === 'weird/sock'; // sockets are left out, with a warning

    const bundle = path.join(out, 'tree-bundle');
    const unpacked = await umociUnpack(layout, 't', bundle);
    const diffs = compareTrees(truth, await snapshotTree(unpacked), { ignore });
    assert.equal(diffs.length, 0, `umoci shows ${diffs.length} differences:\n${formatDifferences(diffs)}`);
    // The root directory's own metadata travels too.
    const [want, got] = await Promise.all([
      fs.lstat(made!.root, { bigint: true }),
      fs.lstat(unpacked, { bigint: true }),
    ]);
    assert.equal(got.mode, want.mode);
    assert.equal(got.mtimeNs, want.mtimeNs);

    if (!(await has('podman'))) return;
    const p = await getPodman();
    const id = await p.pull(`oci:${layout}:t`);
    const mounted = await snapshotTree(await p.mount(id));
    const pdiffs = compareTrees(truth, mounted, { ignore });
    assert.equal(pdiffs.length, 0, `podman shows ${pdiffs.length} differences:\n${formatDifferences(pdiffs)}`);
    await p.unmount(id);
  });

  it('the corpus rootfs gives podman its own tree, and the same layers as the image built from it', async (t) => {
    const why = await corpusSkipReason();
    if (why) return t.skip(why);
    const layout = path.join(out, 'corpus');
    const started = Date.now();
    await rechunk(`rootfs:${corpusRootfs('updated')}`, `oci:${layout}:from-rootfs`);
    t.diagnostic(`rechunk rootfs:${corpusRootfs('updated')} took ${Date.now() - started} ms`);
    await rechunk(`oci:${corpusLayout()}:updated`, `oci:${layout}:from-image`);

    const p = await getPodman();
    const id = await p.pull(`oci:${layout}:from-rootfs`);
    const mounted = await snapshotTree(await p.mount(id));
    const diffs = compareTrees(await snapshotTree(corpusRootfs('updated')), mounted, { ignore: corpusIgnore });
    assert.equal(diffs.length, 0, `podman shows ${diffs.length} differences:\n${formatDifferences(diffs)}`);
    await p.unmount(id);

    // The image carries neither the build script's `.done` marker nor an entry for the root
    // directory; the rootfs has both. Those two paths, and nothing else, may tell layers apart.
    const fromRootfs = await manifestOf(layout, 'from-rootfs');
    const fromImage = await manifestOf(layout, 'from-image');
    assert.equal(fromRootfs.layers.length, fromImage.layers.length);
    let differing = 0;
    for (const [i, layer] of fromImage.layers.entries()) {
      const other = fromRootfs.layers[i]!;
      if (layer.digest === other.digest) continue;
      differing++;
      const a = await layerPaths(layout, layer.digest);
      const b = await layerPaths(layout, other.digest);
      assert.deepEqual(
        a.filter((x) => !b.includes(x)),
        [],
        `layer ${i}: paths only in the image's version`,
      );
      const onlyRootfs = b.filter((x) => !a.includes(x));
      assert.ok(
        onlyRootfs.length > 0 && onlyRootfs.every((x) => x === '.done' || x === '.'),
        `layer ${i} differs by more than .done and the root: ${onlyRootfs.join(', ')}`,
      );
    }
    assert.ok(differing <= 2, `${differing} layers differ`);
  });
});

describe('oci-archive: with skopeo', () => {
  let skip: string | undefined;
  before(async () => {
    if (!(await has('skopeo'))) skip = 'skopeo is not installed';
    else if (!hasCorpus()) skip = `no corpus at ${corpusLayout()}`;
  });

  it('reads what skopeo writes, writes what skopeo reads, and writes the same bytes twice', async (t) => {
    if (skip) return t.skip(skip);
    const input = path.join(out, 'skopeo-base.tar');
    await runOk('skopeo', ['copy', '-q', `oci:${corpusLayout()}:base`, `oci-archive:${input}:base`]);
    const archive = path.join(out, 'rechunked.tar');
    const digest = await rechunk(`oci-archive:${input}:base`, `oci-archive:${archive}:tag`);
    // The archive and the layout hold the same image: the same digest either way.
    assert.equal(await rechunk(`oci:${corpusLayout()}:base`, `oci:${path.join(out, 'base-layout')}:tag`), digest);

    const inspected = JSON.parse((await runOk('skopeo', ['inspect', `oci-archive:${archive}:tag`])).stdout) as {
      Digest: string;
      Layers: string[];
    };
    assert.equal(inspected.Digest, digest);
    const copied = path.join(out, 'copied');
    await runOk('skopeo', ['copy', '-q', `oci-archive:${archive}:tag`, `oci:${copied}:tag`]);
    const index = JSON.parse(await fs.readFile(path.join(copied, 'index.json'), 'utf8')) as Index;
    assert.equal(index.manifests[0]!.digest, digest, 'skopeo copied the manifest unchanged');

    const again = path.join(out, 'rechunked-again.tar');
    await rechunk(`oci-archive:${input}:base`, `oci-archive:${again}:tag`);
    assert.ok((await fs.readFile(again)).equals(await fs.readFile(archive)), 'two runs give byte-identical archives');

    // A second tag goes into the same archive beside the first.
    await rechunk(`oci-archive:${input}:base`, `oci-archive:${archive}:second`, '--max-layers', '8');
    assert.equal(JSON.parse((await runOk('skopeo', ['inspect', `oci-archive:${archive}:tag`])).stdout).Digest, digest);
    assert.equal(
      (JSON.parse((await runOk('skopeo', ['inspect', `oci-archive:${archive}:second`])).stdout) as { Layers: string[] })
        .Layers.length,
      8,
    );
  });

  it('refuses a hostile archive in one line, exit status 1, and leaves no temp dir', async () => {
    const file = path.join(out, 'hostile.tar');
    await fs.writeFile(
      file,
      Buffer.concat([
        rawEntry({ name: 'oci-layout' }, Buffer.from('{}')),
        rawEntry({ name: '../escape' }, Buffer.from('x')),
        END,
      ]),
    );
    const tmpdir = path.join(out, 'hostile-tmp');
    await fs.mkdir(tmpdir);
    const r = await runCli(['rechunk', `oci-archive:${file}:t`, `oci:${path.join(out, 'never')}:t`], {
      TMPDIR: tmpdir,
    });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^rechunker: error \[UNSAFE_PATH\]: .*unsafe path "\.\.\/escape"/);
    assert.deepEqual(await fs.readdir(tmpdir), []);
    await assert.rejects(fs.access(path.join(out, 'escape')));
    await assert.rejects(fs.access(path.join(out, 'never')));
  });
});
