/**
 * npm run bench: speed and memory of `rechunker rechunk`, against a floor measured in the same run.
 *
 *   floor = gzip -d of every input layer + pigz -p 2 -6 of the output's uncompressed bytes
 *
 * i.e. the decompression and compression any rechunker must do, with the best parallel gzip this
 * 2-core machine has. Then a generated image of ~1 GB in ~100,000 files checks that peak memory
 * does not grow with the data. Prints a markdown table; figures are recorded in BENCHMARKS.md.
 */
import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { measure } from './measure.js';
import { makeSyntheticImage } from './synthetic-image.js';
import { mdRow } from './markdown.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'run.js');
const corpus = process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus';
const MiB = 1024 * 1024;

interface Layout {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

async function manifestLayers(layoutDir: string, tag: string): Promise<string[]> {
  const index = JSON.parse(await fs.readFile(path.join(layoutDir, 'index.json'), 'utf8')) as Layout;
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`no tag ${tag} in ${layoutDir}`);
  const blob = (d: string) => path.join(layoutDir, 'blobs', 'sha256', d.slice(7));
  const manifest = JSON.parse(await fs.readFile(blob(entry.digest), 'utf8')) as { layers: { digest: string }[] };
  return manifest.layers.map((l) => blob(l.digest));
}

async function floor(
  inputLayers: string[],
  outputLayers: string[],
  tmp: string,
): Promise<{ seconds: number; decompress: number; compress: number; outputBytes: number }> {
  let decompress = 0;
  for (const f of inputLayers) decompress += (await measure('sh', ['-c', `gzip -dc "$0" > /dev/null`, f])).wallSeconds;
  const raw = path.join(tmp, 'output.tar');
  const out = await fs.open(raw, 'w');
  for (const f of outputLayers)
    for await (const chunk of createReadStream(f).pipe(zlib.createGunzip())) await out.write(chunk as Buffer);
  await out.close();
  const outputBytes = (await fs.stat(raw)).size;
  const compress = (await measure('sh', ['-c', `pigz -p 2 -6 -c "$0" > /dev/null`, raw])).wallSeconds;
  await fs.rm(raw);
  return { seconds: decompress + compress, decompress, compress, outputBytes };
}

async function run(label: string, layoutDir: string, tag: string, tmp: string): Promise<string> {
  const outDir = path.join(tmp, `out-${tag}`);
  const m = await measure(cli, ['rechunk', `oci:${layoutDir}:${tag}`, `oci:${outDir}:${tag}`, '--quiet', '--json']);
  const result = JSON.parse(m.stdout) as {
    layers: unknown[];
    largestLayer: number;
    medianLayer: number;
    files: number;
  };
  const f = await floor(await manifestLayers(layoutDir, tag), await manifestLayers(outDir, tag), tmp);
  await fs.rm(outDir, { recursive: true, force: true });
  const ratio = m.wallSeconds / f.seconds;
  return mdRow([
    label,
    result.files,
    `${(f.outputBytes / MiB).toFixed(0)} MiB`,
    result.layers.length,
    `${m.wallSeconds.toFixed(2)} s`,
    `${f.seconds.toFixed(2)} s (${f.decompress.toFixed(2)} + ${f.compress.toFixed(2)})`,
    `${ratio.toFixed(2)}x`,
    `${(m.peakRssBytes / MiB).toFixed(0)} MiB`,
  ]);
}

/**
 * The usual pipeline's second build: `updated` onto a destination holding the rechunked `base`.
 * Its floor is what must still be done: gunzip of the input, pigz of the layers not reused.
 */
async function rebuild(layoutDir: string, tmp: string): Promise<string> {
  const outDir = path.join(tmp, 'out-rebuild');
  await measure(cli, ['rechunk', `oci:${layoutDir}:base`, `oci:${outDir}:base`, '--quiet']);
  const args = [
    'rechunk',
    `oci:${layoutDir}:updated`,
    `oci:${outDir}:updated`,
    '--prior',
    `oci:${outDir}:base`,
    '--quiet',
    '--json',
  ];
  const m = await measure(cli, args);
  const result = JSON.parse(m.stdout) as { layers: { digest: string; reused: boolean }[]; files: number };
  const blob = (d: string) => path.join(outDir, 'blobs', 'sha256', d.slice(7));
  const fresh = result.layers.filter((l) => !l.reused).map((l) => blob(l.digest));
  const f = await floor(await manifestLayers(layoutDir, 'updated'), fresh, tmp);
  await fs.rm(outDir, { recursive: true, force: true });
  const reused = result.layers.length - fresh.length;
  const label = `corpus \`updated\` onto \`base\` (${reused} layers reused)`;
  return mdRow([
    label,
    result.files,
    `${(f.outputBytes / MiB).toFixed(0)} MiB compressed anew`,
    result.layers.length,
    `${m.wallSeconds.toFixed(2)} s`,
    `${f.seconds.toFixed(2)} s (${f.decompress.toFixed(2)} + ${f.compress.toFixed(2)})`,
    `${(m.wallSeconds / f.seconds).toFixed(2)}x`,
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
      rows.push(await run('corpus `updated`', corpusLayout, 'updated', tmp));
      console.log(rows.at(-1));
      rows.push(await rebuild(corpusLayout, tmp));
      console.log(rows.at(-1));
    } else {
      console.log(`| corpus missing at ${corpus}: run ../shared/corpus/build-debian-images.sh | | | | | | | |`);
    }
    if (!process.argv.includes('--no-synthetic')) {
      const synth = path.join(tmp, 'synthetic');
      const { files, bytes } = await makeSyntheticImage(synth, 'big', 500, 200, 10_000);
      rows.push(await run(`generated, ${files} files, ${(bytes / 1e9).toFixed(2)} GB`, synth, 'big', tmp));
      console.log(rows.at(-1));
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

await main();
