/**
 * npm run bench:update: what an OS update downloads, for our packing against a chunkah-style one
 * and a single layer, all through the real CLI in the same run.
 *
 *   base --rechunk--> B;  updated --rechunk --prior B--> U;  derived --rechunk --prior U--> D
 *
 * For B -> U and U -> D: bytes downloaded by blob reuse and by chain reuse (moby), layers reused,
 * and the lower bound: the corpus's own diff layers (updated-diff's second layer; derived's three
 * layers above the updated tree), i.e. the compressed size of only what changed.
 * Prints markdown; writes nothing into the repository unless `--record FILE` is given.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parsePlanLabel, PLAN_LABEL } from '../src/plan/recorded-plan.js';
import type { PriorPlan } from '../src/plan/plan-types.js';
import { diffLayerBytes, updateCost, type LayerRef, type UpdateCost } from '../src/plan/update-cost.js';
import { mdRow } from './markdown.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'run.js');
const PACKERS = ['single', 'chunkah', 'rechunker'] as const;

interface Step {
  from: string;
  to: string;
  /** The corpus image whose diff layers over `boundFrom` are the lower bound. */
  bound: string;
  boundFrom: string;
}

/** The Debian corpus (two steps) and, when it is built, the rpm corpus of corpus/build-rpm-images.sh (one). */
const CORPORA: { name: string; layout: string; steps: Step[] }[] = [
  {
    name: 'Debian',
    layout: path.join(process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus', 'oci'),
    steps: [
      { from: 'base', to: 'updated', bound: 'updated-diff', boundFrom: 'base' },
      { from: 'updated', to: 'derived', bound: 'derived', boundFrom: 'updated' },
    ],
  },
  {
    name: 'rpm',
    layout: path.join(process.env.RECHUNKER_RPM_CORPUS ?? '/var/tmp/rechunker-rpm-corpus', 'rpm-oci'),
    steps: [{ from: 'base', to: 'updated', bound: 'updated-diff', boundFrom: 'base' }],
  },
];

interface Index {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

async function readJsonBlob<T>(layoutDir: string, digest: string): Promise<T> {
  return JSON.parse(await fs.readFile(path.join(layoutDir, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as T;
}

export async function manifestOf(
  layoutDir: string,
  tag: string,
): Promise<{ config: { digest: string }; layers: (LayerRef & { annotations?: Record<string, string> })[] }> {
  const index = JSON.parse(await fs.readFile(path.join(layoutDir, 'index.json'), 'utf8')) as Index;
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`no tag ${tag} in ${layoutDir}`);
  return readJsonBlob(layoutDir, entry.digest);
}

export async function manifestLayers(layoutDir: string, tag: string): Promise<LayerRef[]> {
  const manifest = await manifestOf(layoutDir, tag);
  return manifest.layers.map((l) => ({ digest: l.digest, size: l.size }));
}

/** The plan a rechunked image recorded in its config label. */
export async function recordedPlan(layoutDir: string, tag: string): Promise<PriorPlan> {
  const manifest = await manifestOf(layoutDir, tag);
  const config = await readJsonBlob<{ config: { Labels: Record<string, string> } }>(layoutDir, manifest.config.digest);
  return parsePlanLabel(tag, config.config.Labels[PLAN_LABEL]!);
}

const BUCKETS = [0, 0.07, 0.1, 0.15, 0.25, 0.5, 1.01];

/**
 * How well the predicted change probabilities of the `from` build matched what changed in `to`:
 * components bucketed by prediction, with the share that actually changed. Chain reuse lives or
 * dies by one mispredicted component near the bottom; this shows whether the predictions are
 * calibrated or merely unlucky.
 */
async function calibration(out: string, from: string, to: string): Promise<string[]> {
  const a = (await recordedPlan(out, from)).components!;
  const b = (await recordedPlan(out, to)).components!;
  const rows = [
    '| predicted P(change) | components | changed | predicted mean | observed | changed components |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (let i = 0; i + 1 < BUCKETS.length; i++) {
    const inBucket = Object.entries(a).filter(
      ([, r]) => r.changeProbability >= BUCKETS[i]! && r.changeProbability < BUCKETS[i + 1]!,
    );
    if (inBucket.length === 0) continue;
    const changed = inBucket.filter(([n, r]) => b[n]?.fingerprint !== r.fingerprint).map(([n]) => n);
    const mean = inBucket.reduce((s, [, r]) => s + r.changeProbability, 0) / inBucket.length;
    const shown = changed.length > 8 ? [...changed.slice(0, 8), `+${changed.length - 8} more`] : changed;
    rows.push(
      mdRow([
        `${BUCKETS[i]!.toFixed(2)}-${Math.min(1, BUCKETS[i + 1]!).toFixed(2)}`,
        inBucket.length,
        changed.length,
        mean.toFixed(3),
        (changed.length / inBucket.length).toFixed(3),
        shown.join(' '),
      ]),
    );
  }
  return rows;
}

async function rechunk(corpus: string, packer: string, out: string, tag: string, prior?: string): Promise<void> {
  const args = [
    cli,
    'rechunk',
    `oci:${corpus}:${tag}`,
    `oci:${out}:${tag}`,
    '--packer',
    packer,
    '--quiet',
    ...(prior ? ['--prior', `oci:${out}:${prior}`] : ['--no-prior']),
  ];
  await run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
}

const mb = (n: number): string => (n / 1e6).toFixed(2);
const pct = (a: number, b: number): string => `${((100 * a) / b).toFixed(0)} %`;

/** Each packing's chain over one corpus's steps, and a table per step. */
async function corpusTables(
  corpus: (typeof CORPORA)[number],
  work: string,
  results: Record<string, Record<string, UpdateCost & { lowerBound: number }>>,
): Promise<string[]> {
  // The three packings are independent chains: build them side by side.
  await Promise.all(
    PACKERS.map(async (packer) => {
      const out = path.join(work, packer);
      await rechunk(corpus.layout, packer, out, corpus.steps[0]!.from);
      for (const step of corpus.steps) await rechunk(corpus.layout, packer, out, step.to, step.from);
    }),
  );
  const lines: string[] = [];
  for (const step of corpus.steps) {
    const lowerBound = diffLayerBytes(
      await manifestLayers(corpus.layout, step.boundFrom),
      await manifestLayers(corpus.layout, step.bound),
    );
    lines.push(`### ${step.from} -> ${step.to} (lower bound: ${mb(lowerBound)} MB, the corpus's diff layers)`, '');
    lines.push(
      '| packing | layers | image MB | blob-reuse download MB | x lower bound | layers reused (blob) | bytes reused ' +
        '| chain-reuse download MB | x lower bound | layers reused (chain) |',
    );
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const packer of PACKERS) {
      const out = path.join(work, packer);
      const c = updateCost(await manifestLayers(out, step.from), await manifestLayers(out, step.to));
      (results[`${corpus.name}: ${step.from}->${step.to}`] ??= {})[packer] = { ...c, lowerBound };
      lines.push(
        mdRow([
          packer === 'rechunker' ? 'ours (--prior)' : packer === 'chunkah' ? 'chunkah-style' : 'single layer',
          c.layers,
          mb(c.imageBytes),
          mb(c.blobDownload),
          (c.blobDownload / lowerBound).toFixed(3),
          `${c.blobReusedLayers}/${c.layers} (${pct(c.blobReusedLayers, c.layers)})`,
          pct(c.blobReusedBytes, c.imageBytes),
          mb(c.chainDownload),
          (c.chainDownload / lowerBound).toFixed(2),
          `${c.chainReusedLayers}/${c.layers}`,
        ]),
      );
    }
    lines.push('', `How our predictions for ${step.from} fared (components of removed packages count as changed):`, '');
    lines.push(...(await calibration(path.join(work, 'rechunker'), step.from, step.to)), '');
  }
  return lines;
}

async function main(): Promise<void> {
  const recordAt = process.argv.indexOf('--record');
  const record = recordAt >= 0 ? process.argv[recordAt + 1] : undefined;
  const work = await fs.mkdtemp('/var/tmp/rechunker-bench-update-');
  try {
    const lines: string[] = [];
    const results: Record<string, Record<string, UpdateCost & { lowerBound: number }>> = {};
    for (const corpus of CORPORA) {
      if (!(await fs.stat(path.join(corpus.layout, 'index.json')).catch(() => null))) {
        lines.push(`(${corpus.name} corpus not built at ${corpus.layout}: skipped)`, '');
        continue;
      }
      if (corpus.name !== 'Debian') lines.push(`## The ${corpus.name} corpus`, '');
      lines.push(...(await corpusTables(corpus, path.join(work, corpus.name), results)));
    }
    const text = lines.join('\n');
    process.stdout.write(`${text}\n`);
    if (record) await fs.writeFile(record, JSON.stringify({ results, markdown: text }, null, 2) + '\n');
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
