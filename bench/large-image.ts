/**
 * npm run bench:large: `rechunker rechunk` of a generated ~5 GB image in 250,000 files (the size of
 * a large bootc desktop image), wall clock beside the floor measured in the same run (floor.ts)
 * and peak RSS (GNU time). Memory must stay flat with image size: the goal is <= 160 MiB here.
 *
 *   node --import tsx bench/large-image.ts [--runs N] [--compare CHECKOUT] [--image DIR]
 *
 * --compare runs CHECKOUT/bin/run.js too, alternating with this checkout's, on the same image
 * (another build of rechunker: the code before a change). --image keeps the generated image in DIR
 * for later runs (it takes minutes to make); otherwise it is made in a temporary directory.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { manifestLayers, measureFloor } from './floor.js';
import { mdRow } from './markdown.js';
import { measure } from './measure.js';
import { LARGE_IMAGE, makeShapedImage } from './synthetic-image.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;
const TAG = 'large';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '1' }, compare: { type: 'string' }, image: { type: 'string' } },
});

async function ensureImage(dir: string): Promise<void> {
  if (await fs.stat(path.join(dir, 'index.json')).catch(() => null)) return;
  const started = Date.now();
  const { files, bytes } = await makeShapedImage(dir, TAG, LARGE_IMAGE);
  const took = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`generated ${files} files, ${(bytes / 1e9).toFixed(2)} GB in ${took} s (${dir})\n`);
}

async function row(label: string, checkout: string, image: string, tmp: string): Promise<string> {
  const outDir = path.join(tmp, 'out');
  const cli = path.join(checkout, 'bin', 'run.js');
  const args = ['rechunk', `oci:${image}:${TAG}`, `oci:${outDir}:${TAG}`, '--quiet', '--json'];
  const m = await measure(cli, args);
  const result = JSON.parse(m.stdout) as { layers: unknown[]; files: number };
  const f = await measureFloor(await manifestLayers(image, TAG), await manifestLayers(outDir, TAG), tmp);
  await fs.rm(outDir, { recursive: true, force: true });
  return mdRow([
    label,
    result.files,
    `${(f.outputBytes / MiB).toFixed(0)} MiB`,
    result.layers.length,
    `${m.wallSeconds.toFixed(1)} s`,
    `${f.seconds.toFixed(1)} s (${f.decompress.toFixed(1)} + ${f.compress.toFixed(1)})`,
    `${(m.wallSeconds / f.seconds).toFixed(2)}x`,
    `${(m.peakRssBytes / MiB).toFixed(0)} MiB`,
  ]);
}

async function main(): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(process.env.RECHUNKER_BENCH_TMP ?? '/var/tmp', 'rechunker-large-'));
  const image = values.image ?? path.join(tmp, 'image');
  try {
    const day = new Date().toISOString().slice(0, 10);
    console.log(`# rechunk of a ~5 GB image (${os.cpus().length} cores, node ${process.version}, ${day})\n`);
    await ensureImage(image);
    console.log(
      '| build | files | uncompressed | layers | wall | floor (gunzip + pigz -p 2) | wall / floor | peak RSS |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    const builds: [string, string][] = [['this checkout', root]];
    if (values.compare) builds.push([`${path.basename(values.compare)} (--compare)`, path.resolve(values.compare)]);
    for (let i = 0; i < Number(values.runs); i++)
      for (const [label, checkout] of builds) console.log(await row(label, checkout, image, tmp));
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

await main();
