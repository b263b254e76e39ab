/**
 * npm run bench: speed and memory of `rechunker rechunk`, against a floor measured in the same run.
 *
 *   floor = gzip -d of every input layer + pigz -p 2 -6 of the output's uncompressed bytes
 *
 * i.e. the decompression and compression any rechunker must do, with the best parallel gzip this
 * 2-core machine has; umoci's unpack + repack of the same image into one layer beside it (without
 * --no-umoci); the rebuilds onto `base` and onto its own output, against the fresh build. Then a
 * generated image of ~1 GB in ~100,000 files checks that peak memory does not grow with the data.
 * Corpus figures are medians of RECHUNKER_BENCH_RUNS (default 3) paired runs. Prints a markdown
 * table; figures are recorded in BENCHMARKS.md.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Floor, manifestLayers, measureFloor } from './floor.js';
import { type Measured, measure } from './measure.js';
import { makeSyntheticImage } from './synthetic-image.js';
import { mdRow } from './markdown.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'run.js');
const corpus = process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus';
const MiB = 1024 * 1024;

interface Row {
  row: string;
  wallSeconds: number;
  floorSeconds: number;
  files: number;
}

/**
 * Runs per corpus figure (RECHUNKER_BENCH_RUNS, default 3): this VM's speed drifts by 10-20 % from
 * one minute to the next, so each figure is the median of paired runs (ours, then its reference).
 */
const RUNS = Math.max(1, Number(process.env.RECHUNKER_BENCH_RUNS ?? 3));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** "median s (runs: a, b, c)" or just the figure for one run. */
function spread(xs: readonly number[]): string {
  const m = `${median(xs).toFixed(2)} s`;
  return xs.length > 1 ? `${m} (runs: ${xs.map((x) => x.toFixed(2)).join(', ')})` : m;
}

interface Paired<T> {
  walls: number[];
  floors: number[];
  /** Each run's wall over its own floor. */
  ratios: number[];
  rss: number;
  /** The last run's result and floor. */
  result: T;
  floor: Floor;
}

/** `runs` runs of one build, each followed by its floor; the figures of all, the details of the last. */
async function paired<T>(
  runs: number,
  once: () => Promise<{ m: Measured; result: T; floor: Floor }>,
): Promise<Paired<T>> {
  const walls: number[] = [];
  const floors: number[] = [];
  const ratios: number[] = [];
  let rss = 0;
  let last: { result: T; floor: Floor } | undefined;
  for (let i = 0; i < runs; i++) {
    const { m, result, floor } = await once();
    walls.push(m.wallSeconds);
    floors.push(floor.seconds);
    ratios.push(m.wallSeconds / floor.seconds);
    rss = Math.max(rss, m.peakRssBytes);
    last = { result, floor };
  }
  return { walls, floors, ratios, rss, ...last! };
}

async function run(label: string, layoutDir: string, tag: string, tmp: string, runs: number): Promise<Row> {
  const outDir = path.join(tmp, `out-${tag}`);
  const p = await paired(runs, async () => {
    await fs.rm(outDir, { recursive: true, force: true });
    const m = await measure(cli, ['rechunk', `oci:${layoutDir}:${tag}`, `oci:${outDir}:${tag}`, '--quiet', '--json']);
    const result = JSON.parse(m.stdout) as { layers: unknown[]; files: number };
    const floor = await measureFloor(await manifestLayers(layoutDir, tag), await manifestLayers(outDir, tag), tmp);
    return { m, result, floor };
  });
  await fs.rm(outDir, { recursive: true, force: true });
  const row = mdRow([
    label,
    p.result.files,
    `${(p.floor.outputBytes / MiB).toFixed(0)} MiB`,
    p.result.layers.length,
    spread(p.walls),
    `${spread(p.floors)}; last ${p.floor.decompress.toFixed(2)} + ${p.floor.compress.toFixed(2)}`,
    `${median(p.ratios).toFixed(2)}x`,
    `${(p.rss / MiB).toFixed(0)} MiB`,
  ]);
  return { row, wallSeconds: median(p.walls), floorSeconds: median(p.floors), files: p.result.files };
}

/**
 * The reference the issue names: umoci (as root) unpacks the image, then repacks its whole tree as
 * one layer. `umoci repack` writes only what changed since the unpack, so the tree is moved into
 * the bundle of an empty image first (not timed: a rename) and repacked there. Shown against the
 * floor of the rechunk row above (the same tree), with rechunk's wall time as a share of umoci's.
 */
async function umoci(layoutDir: string, tag: string, tmp: string, rechunked: Row): Promise<string> {
  const walls: number[] = [];
  let parts = '';
  let rss = 0;
  for (let i = 0; i < RUNS; i++) {
    const dir = path.join(tmp, 'umoci');
    await fs.mkdir(dir);
    try {
      const unpack = await measure('umoci', ['unpack', '--image', `${layoutDir}:${tag}`, path.join(dir, 'full')]);
      const empty = path.join(dir, 'one');
      const prepare = [
        `umoci init --layout "$0/out" && umoci new --image "$0/out:one" && umoci unpack --image "$0/out:one" "$0/one"`,
        'rm -rf "$0/one/rootfs" && mv "$0/full/rootfs" "$0/one/rootfs"',
      ].join(' && ');
      await measure('sh', ['-c', prepare, dir]);
      const repack = await measure('umoci', ['repack', '--image', `${path.join(dir, 'out')}:one`, empty]);
      walls.push(unpack.wallSeconds + repack.wallSeconds);
      parts = `last ${unpack.wallSeconds.toFixed(2)} + ${repack.wallSeconds.toFixed(2)}`;
      rss = Math.max(rss, unpack.peakRssBytes, repack.peakRssBytes);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
  const wall = median(walls);
  return mdRow([
    `corpus \`${tag}\`: umoci unpack + repack into one layer (rechunk took ${((rechunked.wallSeconds / wall) * 100).toFixed(0)}% of it)`,
    rechunked.files,
    '',
    1,
    `${spread(walls)}; ${parts}`,
    `${rechunked.floorSeconds.toFixed(2)} s (the row above's)`,
    `${(wall / rechunked.floorSeconds).toFixed(2)}x`,
    `${(rss / MiB).toFixed(0)} MiB`,
  ]);
}

/**
 * The usual pipeline's second build: `updated` onto a destination holding the rechunked `base`.
 * Its floor is what must still be done: gunzip of the input, pigz of the layers not reused.
 */
async function rebuild(layoutDir: string, tmp: string, freshBuild: Row): Promise<string> {
  const baseDir = path.join(tmp, 'out-base');
  const outDir = path.join(tmp, 'out-rebuild');
  await measure(cli, ['rechunk', `oci:${layoutDir}:base`, `oci:${baseDir}:base`, '--quiet']);
  const args = [
    'rechunk',
    `oci:${layoutDir}:updated`,
    `oci:${outDir}:updated`,
    '--prior',
    `oci:${outDir}:base`,
    '--quiet',
    '--json',
  ];
  const p = await paired(RUNS, async () => {
    // Each run starts from a destination that holds only the rechunked base.
    await fs.rm(outDir, { recursive: true, force: true });
    await fs.cp(baseDir, outDir, { recursive: true });
    const m = await measure(cli, args);
    const result = JSON.parse(m.stdout) as { layers: { digest: string; reused: boolean }[]; files: number };
    const blob = (d: string) => path.join(outDir, 'blobs', 'sha256', d.slice(7));
    const fresh = result.layers.filter((l) => !l.reused).map((l) => blob(l.digest));
    return { m, result, floor: await measureFloor(await manifestLayers(layoutDir, 'updated'), fresh, tmp) };
  });
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.rm(baseDir, { recursive: true, force: true });
  const reused = p.result.layers.filter((l) => l.reused).length;
  const share = (median(p.walls) / freshBuild.wallSeconds).toFixed(2);
  const label = `corpus \`updated\` onto \`base\` (${reused} layers reused; ${share}x the fresh build's wall)`;
  return mdRow([
    label,
    p.result.files,
    `${(p.floor.outputBytes / MiB).toFixed(0)} MiB compressed anew`,
    p.result.layers.length,
    spread(p.walls),
    spread(p.floors),
    `${(median(p.walls) / median(p.floors)).toFixed(2)}x`,
    `${(p.rss / MiB).toFixed(0)} MiB`,
  ]);
}

/**
 * A pipeline re-run with nothing new: `updated` onto its own rechunked output. Its reference is
 * the fresh build of the same run; the digest must be the first build's.
 */
async function identical(layoutDir: string, tmp: string, fresh: Row): Promise<string> {
  const outDir = path.join(tmp, 'out-identical');
  const args = ['rechunk', `oci:${layoutDir}:updated`, `oci:${outDir}:updated`, '--quiet', '--json'];
  const first = JSON.parse((await measure(cli, args)).stdout) as { manifestDigest: string };
  const walls: number[] = [];
  // RUNS >= 1: the loop always measures.
  let m!: Measured;
  for (let i = 0; i < RUNS; i++) {
    m = await measure(cli, args);
    walls.push(m.wallSeconds);
  }
  const again = JSON.parse(m.stdout) as {
    manifestDigest: string;
    unchanged: boolean;
    layers: unknown[];
    files: number;
  };
  await fs.rm(outDir, { recursive: true, force: true });
  const same = again.manifestDigest === first.manifestDigest ? 'same digest' : 'DIGEST DIFFERS';
  return mdRow([
    `corpus \`updated\` onto its own output (${again.unchanged ? 'unchanged' : 'rebuilt'}, ${same})`,
    again.files,
    '',
    again.layers.length,
    spread(walls),
    `${fresh.wallSeconds.toFixed(2)} s (the fresh build above)`,
    `${(median(walls) / fresh.wallSeconds).toFixed(2)}x`,
    `${(m.peakRssBytes / MiB).toFixed(0)} MiB`,
  ]);
}

async function main(): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(process.env.RECHUNKER_BENCH_TMP ?? '/var/tmp', 'rechunker-bench-'));
  const rows: string[] = [];
  try {
    console.log(
      `# rechunk benchmark (${os.cpus().length} cores, node ${process.version}, ${new Date().toISOString().slice(0, 10)})\n`,
    );
    console.log(
      '| image | files | uncompressed | layers | wall | floor (gunzip + pigz -p 2) | wall / floor | peak RSS |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    const corpusLayout = path.join(corpus, 'oci');
    if (await fs.stat(path.join(corpusLayout, 'index.json')).catch(() => null)) {
      const first = await run('corpus `updated`', corpusLayout, 'updated', tmp, RUNS);
      rows.push(first.row);
      console.log(rows.at(-1));
      if (!process.argv.includes('--no-umoci')) {
        rows.push(await umoci(corpusLayout, 'updated', tmp, first));
        console.log(rows.at(-1));
      }
      rows.push(await rebuild(corpusLayout, tmp, first));
      console.log(rows.at(-1));
      rows.push(await identical(corpusLayout, tmp, first));
      console.log(rows.at(-1));
    } else {
      console.log(`| corpus missing at ${corpus}: run ../shared/corpus/build-debian-images.sh | | | | | | | |`);
    }
    if (!process.argv.includes('--no-synthetic')) {
      const synth = path.join(tmp, 'synthetic');
      const { files, bytes } = await makeSyntheticImage(synth, 'big', 500, 200, 10_000);
      rows.push((await run(`generated, ${files} files, ${(bytes / 1e9).toFixed(2)} GB`, synth, 'big', tmp, 1)).row);
      console.log(rows.at(-1));
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

await main();
