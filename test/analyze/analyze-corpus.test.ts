import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import type { AnalyzeReport } from '../../src/analyze/analyze-report.js';
import { analyzeImages } from '../../src/engine/analyze-images.js';
import { corpusIgnore, corpusLayout, corpusRootfs, hasCorpus, type CorpusRootfs } from '../helpers/corpus.js';

/**
 * Every figure of `analyze` on the Debian corpus against a computation of this file's own: the
 * true trees walked with fs.lstat and hashed here, the layer tars listed by GNU tar, the manifests
 * read as JSON. Then the index: a second run over a layout without its layer blobs gives the same
 * report, and four worker processes indexing one tag each into a shared index, then one query
 * run, give it too.
 */
const TAGS = [
  { tag: 'base', rootfs: 'base' },
  { tag: 'updated', rootfs: 'updated' },
  { tag: 'updated-diff', rootfs: 'updated' },
  { tag: 'derived', rootfs: 'derived' },
] as const;
const PLATFORM = { os: 'linux', architecture: 'amd64' };
const refs = (layout: string) => TAGS.map((t) => `oci:${layout}:${t.tag}`);

interface Tree {
  files: number;
  fileBytes: number;
  /** sha256 -> size, and the bytes of inodes beyond the first with each content. */
  contents: Map<string, number>;
  duplicateBytes: number;
  /** path -> size of regular files, for package lists. */
  sizes: Map<string, { size: number; ino: string }>;
  /** sha256 -> the first path holding it. */
  paths: Map<string, string>;
}

async function walkTree(root: string): Promise<Tree> {
  const t: Tree = {
    files: 0,
    fileBytes: 0,
    contents: new Map(),
    duplicateBytes: 0,
    sizes: new Map(),
    paths: new Map(),
  };
  const inodes = new Set<string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await fs.readdir(dir)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      if (corpusIgnore(p)) continue;
      const full = path.join(dir, name);
      const st = await fs.lstat(full);
      if (st.isDirectory()) await walk(full, p);
      if (!st.isFile()) continue;
      t.files++;
      const ino = `${st.dev}:${st.ino}`;
      t.sizes.set(p, { size: st.size, ino });
      if (inodes.has(ino)) continue;
      inodes.add(ino);
      t.fileBytes += st.size;
      const digest = createHash('sha256')
        .update(await fs.readFile(full))
        .digest('hex');
      if (t.contents.has(digest)) t.duplicateBytes += st.size;
      else t.contents.set(digest, st.size), t.paths.set(digest, p);
    }
  };
  await walk(root, '');
  return t;
}

interface Manifest {
  layers: { digest: string; size: number }[];
}

async function manifestOf(tag: string): Promise<Manifest> {
  const layout = corpusLayout();
  const index = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const d = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!.digest;
  return JSON.parse(await fs.readFile(path.join(layout, 'blobs', 'sha256', d.slice(7)), 'utf8')) as Manifest;
}

/** Bytes of regular-file entries in a layer, as GNU tar lists them. */
function tarFileBytes(digest: string): number {
  const out = execFileSync('tar', ['-tvzf', path.join(corpusLayout(), 'blobs', 'sha256', digest.slice(7))], {
    maxBuffer: 256 << 20,
    encoding: 'utf8',
  });
  let n = 0;
  for (const line of out.split('\n')) if (line.startsWith('-')) n += Number(line.split(/\s+/)[2]);
  return n;
}

/** The layer's uncompressed tar, gunzip'd here: its byte length and its sha256 (the diff_id). */
async function gunzipFacts(digest: string): Promise<{ bytes: number; diffId: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const gunzip = createReadStream(path.join(corpusLayout(), 'blobs', 'sha256', digest.slice(7))).pipe(
    zlib.createGunzip(),
  );
  for await (const c of gunzip as AsyncIterable<Buffer>) {
    hash.update(c);
    bytes += c.length;
  }
  return { bytes, diffId: `sha256:${hash.digest('hex')}` };
}

async function diffIdsOf(tag: string): Promise<string[]> {
  const m = (await manifestOf(tag)) as Manifest & { config: { digest: string } };
  const config = await fs.readFile(path.join(corpusLayout(), 'blobs', 'sha256', m.config.digest.slice(7)), 'utf8');
  return (JSON.parse(config) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
}

/** Copy the layout without its layer blobs: a run that opens one fails. */
async function layoutWithoutLayers(dest: string, tags: readonly string[]): Promise<void> {
  const src = corpusLayout();
  await fs.mkdir(path.join(dest, 'blobs', 'sha256'), { recursive: true });
  await fs.copyFile(path.join(src, 'index.json'), path.join(dest, 'index.json'));
  await fs.copyFile(path.join(src, 'oci-layout'), path.join(dest, 'oci-layout'));
  const index = JSON.parse(await fs.readFile(path.join(src, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  for (const m of index.manifests) {
    if (!tags.includes(m.annotations?.['org.opencontainers.image.ref.name'] ?? '')) continue;
    const bytes = await fs.readFile(path.join(src, 'blobs', 'sha256', m.digest.slice(7)));
    await fs.writeFile(path.join(dest, 'blobs', 'sha256', m.digest.slice(7)), bytes);
    const config = (JSON.parse(bytes.toString()) as { config: { digest: string } }).config.digest.slice(7);
    await fs.copyFile(path.join(src, 'blobs', 'sha256', config), path.join(dest, 'blobs', 'sha256', config));
  }
}

const withoutIndexStats = ({ index: _index, ...rest }: AnalyzeReport) => rest;
const renamed = (r: ReturnType<typeof withoutIndexStats>, from: string, to: string) =>
  JSON.parse(JSON.stringify(r).split(from).join(to)) as unknown;

describe('analyze the Debian corpus', {
  skip: hasCorpus() ? false : `no corpus at ${corpusLayout()} (build it with shared/corpus/build-debian-images.sh)`,
}, () => {
  let work = '';
  let report: AnalyzeReport;
  const trees = new Map<CorpusRootfs, Tree>();

  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-analyze-'));
    report = (await analyzeImages({
      refs: refs(corpusLayout()),
      platform: PLATFORM,
      indexDir: path.join(work, 'index'),
      series: true,
    })) as AnalyzeReport;
    for (const name of ['base', 'updated', 'derived'] as const) trees.set(name, await walkTree(corpusRootfs(name)));
  });
  after(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('per image: files, their bytes, duplicate contents and wasted bytes match the true trees and the layer tars', async () => {
    for (const [i, { tag, rootfs }] of TAGS.entries()) {
      const img = report.images[i]!;
      const tree = trees.get(rootfs)!;
      const m = await manifestOf(tag);
      assert.equal(img.files, tree.files, `${tag} files`);
      assert.equal(img.fileBytes, tree.fileBytes, `${tag} file bytes`);
      assert.equal(img.distinctContents, tree.contents.size, `${tag} distinct contents`);
      assert.equal(img.duplicateBytes, tree.duplicateBytes, `${tag} duplicate bytes`);
      const entryBytes = m.layers.reduce((s, l) => s + tarFileBytes(l.digest), 0);
      assert.equal(img.wastedBytes, entryBytes - tree.fileBytes, `${tag} wasted bytes`);
      const diffIds = await diffIdsOf(tag);
      let tarBytes = 0;
      for (const [j, l] of m.layers.entries()) {
        const tar = await gunzipFacts(l.digest);
        assert.equal(tar.diffId, diffIds[j], `${tag} layer ${j}: the bytes counted are the diff_id'd tar`);
        assert.equal(img.layers[j]!.tarBytes, tar.bytes, `${tag} layer ${j} tar bytes`);
        assert.equal(img.layers[j]!.contentBytes, tarFileBytes(l.digest), `${tag} layer ${j} content bytes`);
        tarBytes += tar.bytes;
      }
      assert.equal(img.uncompressedBytes, tarBytes, `${tag} uncompressed bytes: the layers' tars`);
      assert.ok(img.uncompressedBytes > entryBytes, `${tag}: headers and padding count`);
      assert.equal(
        img.compressedBytes,
        m.layers.reduce((s, l) => s + l.size, 0),
        `${tag} compressed bytes`,
      );
      assert.deepEqual(
        img.layers.map((l) => l.digest),
        m.layers.map((l) => l.digest),
      );
    }
    assert.ok(report.images[2]!.wastedBytes > 1e6, 'updated-diff overwrites files of its base layer');
  });

  it('per image: components partition the files, and a package holds what its dpkg list names', async () => {
    for (const [i, { rootfs }] of TAGS.entries()) {
      const img = report.images[i]!;
      const kinds = Object.values(img.componentsByKind).reduce((s, k) => s + k.bytes, 0);
      assert.equal(kinds, img.fileBytes, `${rootfs}: component bytes add up to the image's`);
      const tree = trees.get(rootfs)!;
      const list = await fs.readFile(path.join(corpusRootfs(rootfs), 'var/lib/dpkg/info/coreutils.list'), 'utf8');
      const seen = new Set<string>();
      let bytes = 0;
      // Listed paths, through the merged-/usr symlinks (bin -> usr/bin), and dpkg's own files of the package.
      const own = (await fs.readdir(path.join(corpusRootfs(rootfs), 'var/lib/dpkg/info'))).filter((n) =>
        n.startsWith('coreutils.'),
      );
      const listed = [
        ...list.split('\n').map((l) => l.replace(/^\//, '')),
        ...own.map((n) => `var/lib/dpkg/info/${n}`),
      ];
      for (const line of listed) {
        const f = tree.sizes.get(line) ?? tree.sizes.get(`usr/${line}`);
        if (f && !seen.has(f.ino)) seen.add(f.ino), (bytes += f.size);
      }
      const top = img.topComponents.find((c) => c.name === 'deb:coreutils');
      assert.ok(top, 'coreutils is among the largest components');
      assert.equal(top.bytes, bytes, `${rootfs}: deb:coreutils bytes`);
    }
  });

  it('across images: file-level and layer-level dedup match the trees and manifests', async () => {
    const all = new Map<string, number>();
    let total = 0;
    let count = 0;
    for (const { rootfs } of TAGS) {
      const t = trees.get(rootfs)!;
      total += t.fileBytes;
      for (const [d, s] of t.contents) all.set(d, s);
    }
    for (const { rootfs } of TAGS) count += trees.get(rootfs)!.files;
    assert.equal(report.dedup.files.totalBytes, total);
    assert.equal(
      report.dedup.files.distinctBytes,
      [...all.values()].reduce((s, n) => s + n, 0),
    );
    assert.equal(report.dedup.files.distinctCount, all.size);
    assert.ok(report.dedup.files.totalCount <= count, 'a hardlink set counts once');
    const layers = new Map<string, number>();
    let layerTotal = 0;
    for (const { tag } of TAGS)
      for (const l of (await manifestOf(tag)).layers) layers.set(l.digest, l.size), (layerTotal += l.size);
    assert.equal(report.dedup.layers.totalBytes, layerTotal);
    assert.equal(
      report.dedup.layers.distinctBytes,
      [...layers.values()].reduce((s, n) => s + n, 0),
    );
    assert.equal(report.relayering.storedBytes, report.dedup.files.distinctBytes);
    const everywhere = report.relayering.groups.find((g) => g.images.length === 4)!;
    const shared = [...trees.get('base')!.contents].filter(([d]) =>
      ['updated', 'derived'].every((n) => trees.get(n as CorpusRootfs)!.contents.has(d)),
    );
    assert.equal(
      everywhere.bytes,
      shared.reduce((s, [, n]) => s + n, 0),
      'contents held by all four images',
    );
    assert.ok(report.topDuplicatedPaths.length > 0 && report.topDuplicatedPaths[0]!.duplicatedBytes > 1e6);
  });

  it('between versions: blob and chain reuse from the manifests, the lower bound from the trees', async () => {
    const steps = report.steps!;
    assert.equal(steps.length, 3);
    for (let i = 1; i < TAGS.length; i++) {
      const a = await manifestOf(TAGS[i - 1]!.tag);
      const b = await manifestOf(TAGS[i]!.tag);
      const have = new Set(a.layers.map((l) => l.digest));
      const blob = b.layers.filter((l) => !have.has(l.digest)).reduce((s, l) => s + l.size, 0);
      const k = b.layers.findIndex((l, j) => a.layers[j]?.digest !== l.digest);
      const chain = k < 0 ? 0 : b.layers.slice(k).reduce((s, l) => s + l.size, 0);
      const s = steps[i - 1]!;
      assert.equal(s.blobDownload, blob, `${s.to} blob`);
      assert.equal(s.chainDownload, chain, `${s.to} chain`);
      const from = trees.get(TAGS[i - 1]!.rootfs)!;
      const to = trees.get(TAGS[i]!.rootfs)!;
      let bound = 0;
      for (const [d, p] of to.paths) {
        if (!from.contents.has(d))
          bound += zlib.gzipSync(await fs.readFile(path.join(corpusRootfs(TAGS[i]!.rootfs), p)), { level: 6 }).length;
      }
      assert.equal(s.lowerBound, bound, `${s.to} lower bound`);
      assert.ok(
        s.rechunkedDownload >= s.lowerBound && s.rechunkedDownload <= s.imageBytes,
        `${s.to} rechunked ${s.rechunkedDownload}`,
      );
    }
    assert.equal(steps[1]!.lowerBound, 0, 'updated-diff holds the same files as updated');
    assert.equal(steps[1]!.rechunkedDownload, 0, 'rechunked, the same tree downloads nothing');
    assert.ok(steps[0]!.rechunkedDownload < steps[0]!.blobDownload / 2, 'rechunking the update saves more than half');
  });

  it('a second run reads only the index: no layer blob is there to open, and the report is the same', async () => {
    const bare = path.join(work, 'bare');
    await layoutWithoutLayers(
      bare,
      TAGS.map((t) => t.tag),
    );
    const again = (await analyzeImages({
      refs: refs(bare),
      platform: PLATFORM,
      indexDir: path.join(work, 'index'),
      series: true,
    })) as AnalyzeReport;
    assert.equal(again.index.layersIndexed, 0);
    assert.equal(again.index.imagesFromIndex, 4);
    assert.deepEqual(renamed(withoutIndexStats(again), bare, corpusLayout()), withoutIndexStats(report));
  });
});
