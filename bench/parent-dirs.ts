/**
 * What each --parent-dirs mode costs an update: rechunk the corpus's `base`, then `updated` with
 * `--prior` pointing at the base build (as a build pipeline would), and count the updated image's
 * layers whose blob the base build already has (a client that pulled base downloads only the
 * others). Also reports what each mode costs in fidelity on today's runtimes. Prints a markdown
 * table; the figures are quoted in README.md ("Parent directories").
 *
 *   npm run build && node --import tsx bench/parent-dirs.ts [--compression gzip|zstd|none]
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mdRow } from './markdown.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'run.js');
const corpus = path.join(process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus', 'oci');
const compression = process.argv.includes('--compression')
  ? process.argv[process.argv.indexOf('--compression') + 1]!
  : 'gzip';

interface Variant {
  label: string;
  flags: string[];
}
const VARIANTS: Variant[] = [
  { label: '`top-layer` (default)', flags: ['--parent-dirs', 'top-layer'] },
  { label: '`every-layer`', flags: ['--parent-dirs', 'every-layer'] },
  { label: '`every-layer --dir-mtime clamp`', flags: ['--parent-dirs', 'every-layer', '--dir-mtime', 'clamp'] },
  { label: '`delegate`', flags: ['--parent-dirs', 'delegate'] },
];

interface Result {
  layers: { digest: string; size: number; components: string[] }[];
  warnings: string[];
}

function rechunk(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [cli, 'rechunk', ...args, '--quiet', '--json', '--compression', compression],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout) as Result)
        : reject(new Error(`rechunk ${args.join(' ')}: exit ${code}: ${stderr}`)),
    );
  });
}

const MB = 1e6;
const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;

/** The first number in the warning that starts with `prefix`, or undefined. */
function warned(r: Result, prefix: string): number | undefined {
  const w = r.warnings.find((x) => x.startsWith(prefix));
  return w ? Number(/(\d+)/.exec(w.slice(prefix.length))![1]) : undefined;
}

async function main(): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(process.env.RECHUNKER_BENCH_TMP ?? '/var/tmp', 'rechunker-bench-pd-'));
  try {
    console.log(
      `# parent-dirs update cost: corpus base -> updated (${compression}, ${os.availableParallelism()} cores, ${new Date().toISOString().slice(0, 10)})\n`,
    );
    console.log(
      "| mode | layers | directory entries | reused layers | download for the update | whole image | what today's runtimes get wrong |",
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const [i, v] of VARIANTS.entries()) {
      const layout = path.join(tmp, `v${i}`);
      const base = await rechunk([`oci:${corpus}:base`, `oci:${layout}:base`, ...v.flags]);
      const updated = await rechunk([
        `oci:${corpus}:updated`,
        `oci:${layout}:updated`,
        '--prior',
        `oci:${layout}:base`,
        ...v.flags,
      ]);
      const have = new Set(base.layers.map((l) => l.digest));
      const fresh = updated.layers.filter((l) => !have.has(l.digest));
      const total = updated.layers.reduce((n, l) => n + l.size, 0);
      const download = fresh.reduce((n, l) => n + l.size, 0);
      const dirEntries = await countDirEntries(layout, updated);
      const shadowed = warned(updated, '--parent-dirs delegate:');
      const clamped = warned(updated, '--dir-mtime clamp:');
      const fidelity =
        shadowed !== undefined
          ? `${shadowed} directories shown with default metadata`
          : clamped !== undefined
            ? `${clamped} directory mtimes replaced by 1970-01-01`
            : 'nothing';
      console.log(
        mdRow([
          v.label,
          updated.layers.length,
          dirEntries,
          `${updated.layers.length - fresh.length} of ${updated.layers.length}`,
          `${mb(download)} (${fresh.length} layers)`,
          mb(total),
          fidelity,
        ]),
      );
      await fs.rm(layout, { recursive: true, force: true });
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** Directory entries over every layer of the image: a directory carried by k layers counts k times. */
async function countDirEntries(layout: string, r: Result): Promise<number> {
  const { readTar } = await import('../src/tar/reader.js');
  const { decompressor, sniffCompression } = await import('../src/compress/codec.js');
  const { createReadStream } = await import('node:fs');
  const { pipeline } = await import('node:stream');
  let n = 0;
  for (const l of r.layers) {
    const file = path.join(layout, 'blobs', 'sha256', l.digest.slice(7));
    const head = Buffer.alloc(4);
    const fh = await fs.open(file, 'r');
    await fh.read(head, 0, 4, 0);
    await fh.close();
    const tar = pipeline(createReadStream(file), decompressor(sniffCompression(head)), () => {});
    for await (const { entry } of readTar(tar)) if (entry.type === 'dir') n++;
  }
  return n;
}

await main();
