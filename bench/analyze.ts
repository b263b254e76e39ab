/**
 * `analyze`: the first run over images (every layer read and indexed) against the second (the
 * index only), and peak RSS over 20 images made from the corpus (its base and updated layers,
 * each image with a small layer of its own on top). Each run is bin/run.js in its own process, as
 * users run it (its node flags count), so its peak RSS is its own, from GNU time:
 * `npm run build && node --import tsx bench/analyze.ts`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { newEntry } from '../src/tar/entry.js';
import { writeTar } from '../src/tar/writer.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const corpus = process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus';
const layout = path.join(corpus, 'oci');
const work = `/var/tmp/rechunker-bench-analyze-${process.pid}`;
const cli = path.join(root, 'bin', 'run.js');
if (!existsSync(path.join(root, 'dist', 'commands', 'analyze.js'))) throw new Error('no dist/: npm run build first');

interface Run {
  seconds: number;
  /** User and system CPU seconds: on a shared machine, steadier than the wall clock. */
  cpuSeconds: number;
  maxRssMiB: number;
  layersIndexed: number;
}

function analyze(args: string[]): Run {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cli, 'analyze', '--json', '--quiet', ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`analyze failed: ${r.stderr}`);
  const [kib, user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return {
    seconds,
    cpuSeconds: user! + sys!,
    maxRssMiB: Math.round(kib! / 1024),
    layersIndexed: (JSON.parse(r.stdout) as { index: { layersIndexed: number } }).index.layersIndexed,
  };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A layout of `n` images: the corpus's base or updated layer, then a small layer of the image's own. */
async function makeImages(dir: string, n: number): Promise<string[]> {
  const blobs = path.join(dir, 'blobs', 'sha256');
  await fs.mkdir(blobs, { recursive: true });
  const index = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations: Record<string, string> }[];
  };
  const put = async (b: Buffer) => (await fs.writeFile(path.join(blobs, sha(b)), b), `sha256:${sha(b)}`);
  const manifests = [];
  for (let i = 0; i < n; i++) {
    const tag = i % 2 === 0 ? 'base' : 'updated';
    const m = index.manifests.find((x) => x.annotations['org.opencontainers.image.ref.name'] === tag)!;
    const manifest = JSON.parse(await fs.readFile(path.join(layout, 'blobs', 'sha256', m.digest.slice(7)), 'utf8'));
    const config = JSON.parse(
      await fs.readFile(path.join(layout, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8'),
    );
    for (const l of manifest.layers) {
      await fs
        .link(path.join(layout, 'blobs', 'sha256', l.digest.slice(7)), path.join(blobs, l.digest.slice(7)))
        .catch(() => {});
    }
    const body = Buffer.from(`build ${i}\n`.repeat(1000 + i));
    const chunks: Buffer[] = [];
    for await (const c of writeTar([{ entry: newEntry('etc/build-id', 'file', { size: body.length }), body }]))
      chunks.push(c);
    const tar = Buffer.concat(chunks);
    const gz = zlib.gzipSync(tar, { level: 6 });
    const layerDigest = await put(gz);
    config.rootfs.diff_ids.push(`sha256:${sha(tar)}`);
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = await put(configBytes);
    const out = {
      ...manifest,
      config: { ...manifest.config, digest: configDigest, size: configBytes.length },
      layers: [
        ...manifest.layers,
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: gz.length },
      ],
    };
    const mb = Buffer.from(JSON.stringify(out));
    manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: await put(mb),
      size: mb.length,
      annotations: { 'org.opencontainers.image.ref.name': `v${i}` },
    });
  }
  await fs.writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  return manifests.map((_, i) => `oci:${dir}:v${i}`);
}

const mb = (n: number) => n.toFixed(1);
await fs.mkdir(work, { recursive: true });
try {
  const tags = ['base', 'updated', 'updated-diff', 'derived'].map((t) => `oci:${layout}:${t}`);
  const row = (label: string, r: Run) =>
    console.log(
      `  ${label.padEnd(26)}${mb(r.seconds).padStart(8)}${mb(r.cpuSeconds).padStart(8)}${String(r.maxRssMiB).padStart(14)}  ${r.layersIndexed}`,
    );
  const speedUp = (a: Run, b: Run) =>
    console.log(
      `  speed-up                  ${(a.seconds / b.seconds).toFixed(1)}x wall, ${(a.cpuSeconds / b.cpuSeconds).toFixed(1)}x CPU`,
    );
  const first = analyze(['--index', path.join(work, 'idx4'), '--series', ...tags]);
  const second = analyze(['--index', path.join(work, 'idx4'), '--series', ...tags]);
  console.log('corpus, 4 tags, --series     seconds     CPU  peak RSS MiB  layers indexed');
  row('first run (index)', first);
  row('second run (index only)', second);
  speedUp(first, second);
  const refs = await makeImages(path.join(work, 'twenty'), 20);
  const a = analyze(['--index', path.join(work, 'idx20'), '--series', ...refs]);
  const b = analyze(['--index', path.join(work, 'idx20'), '--series', ...refs]);
  console.log('20 images (corpus base/updated + one small layer each)');
  row('first run', a);
  row('second run', b);
  speedUp(a, b);
} finally {
  await fs.rm(work, { recursive: true, force: true });
}
