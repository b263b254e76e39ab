/**
 * Part of npm run bench:update: an application copied into the OS image without a package (a
 * 30 MB tree of small files under /opt/app, as `COPY` or an install script leaves it), unchanged
 * between base and updated. Nothing claims it, so unless it becomes a component of its own it
 * rides in the volatile catch-all and is downloaded with every OS update.
 *
 *   rootfs:base+app --rechunk--> B;  rootfs:updated+app --rechunk --prior B--> U
 *
 * Prints the blob-reuse download against the corpus's lower bound (the app is the same on both
 * sides, so the bound is the corpus's diff layers) and which layer holds the app.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { COMPONENTS_ANNOTATION } from '../src/plan/recorded-plan.js';
import { diffLayerBytes, updateCost } from '../src/plan/update-cost.js';
import { mulberry32 } from './simulate.js';
import { manifestLayers, manifestOf } from './update-cost.js';
import { mdRow } from './markdown.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'run.js');
const corpusDir = process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus';
const FILES = 600;
const FILE_BYTES = 50_000;
const MTIME = new Date(1_700_000_000_000);

/** The same app on every call: base64 of seeded random bytes (compresses like minified JS, ~75 %). */
async function writeApp(rootfs: string): Promise<void> {
  const rand = mulberry32(7);
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(rootfs, 'opt', 'app', 'node_modules', `pkg${i % 60}`);
    await fs.mkdir(dir, { recursive: true });
    const bytes = Buffer.alloc((FILE_BYTES * 3) / 4);
    for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rand() * 256);
    const file = path.join(dir, `f${i}.js`);
    await fs.writeFile(file, `// module ${i}\n${bytes.toString('base64')}\n`);
    await fs.utimes(file, MTIME, MTIME);
  }
  for (const d of ['opt/app/node_modules', 'opt/app', 'opt']) await fs.utimes(path.join(rootfs, d), MTIME, MTIME);
  for (let p = 0; p < 60; p++)
    await fs.utimes(path.join(rootfs, 'opt', 'app', 'node_modules', `pkg${p}`), MTIME, MTIME);
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp('/var/tmp/rechunker-bench-app-');
  try {
    for (const tag of ['base', 'updated']) {
      await run('cp', ['-a', path.join(corpusDir, 'rootfs', tag), path.join(work, tag)]);
      await writeApp(path.join(work, tag));
    }
    const out = path.join(work, 'out');
    await run(process.execPath, [cli, 'rechunk', `rootfs:${path.join(work, 'base')}`, `oci:${out}:base`, '--quiet']);
    await run(process.execPath, [
      cli,
      'rechunk',
      `rootfs:${path.join(work, 'updated')}`,
      `oci:${out}:updated`,
      '--prior',
      `oci:${out}:base`,
      '--quiet',
    ]);
    const corpus = path.join(corpusDir, 'oci');
    const lowerBound = diffLayerBytes(
      await manifestLayers(corpus, 'base'),
      await manifestLayers(corpus, 'updated-diff'),
    );
    const c = updateCost(await manifestLayers(out, 'base'), await manifestLayers(out, 'updated'));
    const manifest = await manifestOf(out, 'updated');
    const holder = manifest.layers.findIndex((l) =>
      (l.annotations?.[COMPONENTS_ANNOTATION] ?? '').split(',').some((n) => n.startsWith('tree:opt')),
    );
    const mb = (n: number): string => (n / 1e6).toFixed(2);
    process.stdout.write(
      [
        `# an unpackaged app: corpus base -> updated, each with the same ${(FILES * FILE_BYTES) / 1e6} MB /opt/app of ${FILES} small files`,
        '',
        '| layers | blob-reuse download MB | x lower bound | layers reused | layer holding /opt/app |',
        '|---:|---:|---:|---:|---|',
        mdRow([
          c.layers,
          mb(c.blobDownload),
          (c.blobDownload / lowerBound).toFixed(3),
          `${c.blobReusedLayers}/${c.layers}`,
          holder < 0
            ? 'none of its own (in the catch-all)'
            : `${holder}: ${manifest.layers[holder]!.annotations![COMPONENTS_ANNOTATION]}`,
        ]),
        '',
      ].join('\n'),
    );
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
