/**
 * npm run bench:phases: where a build's time and memory go. A fresh build of corpus `updated` and
 * its rebuild onto the rechunked `base`, each run by bench/phase-probe.mjs in a process of its own
 * (with the V8 flags of bin/run.js's shebang), timed per progress phase, with peak RSS, V8 heap and
 * ArrayBuffers per phase. A breakdown to aim work at, beside `npm run bench`'s totals.
 *
 *   npm run build && node --import tsx bench/phases.ts [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mdRow } from './markdown.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const probe = path.join(here, 'phase-probe.mjs');
/** The launcher's V8 flags (`#!/usr/bin/env -S node FLAGS`), so the probe's heap is the CLI's. */
const launcherFlags = (await fs.readFile(path.join(here, '..', 'bin', 'run.js'), 'utf8'))
  .split('\n', 1)[0]!
  .split(' ')
  .filter((w) => w.startsWith('--'));
const corpus = path.join(process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus', 'oci');
const MiB = 1024 * 1024;

interface PhaseFigures {
  seconds: number;
  rss: number;
  heap: number;
  arrayBuffers: number;
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' } } });

function build(tag: string, destination: string): [string, PhaseFigures][] {
  const r = spawnSync(process.execPath, [...launcherFlags, probe, `oci:${corpus}:${tag}`, `oci:${destination}:x`], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build of ${tag} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as [string, PhaseFigures][];
}

function table(title: string, phases: [string, PhaseFigures][]): void {
  const total = phases.reduce((s, [, f]) => s + f.seconds, 0);
  console.log(`\n#### ${title}: ${total.toFixed(2)} s\n`);
  console.log('| phase | wall | peak RSS | peak heap | peak ArrayBuffers |');
  console.log('|---|---|---|---|---|');
  for (const [name, f] of phases) {
    if (f.seconds < 0.005) continue;
    const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
    console.log(mdRow([name, `${f.seconds.toFixed(2)} s`, mib(f.rss), mib(f.heap), mib(f.arrayBuffers)]));
  }
}

async function main(): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(process.env.RECHUNKER_BENCH_TMP ?? '/var/tmp', 'rechunker-phases-'));
  try {
    console.log(`# phases of a rechunk of corpus \`updated\` (${os.cpus().length} cores, node ${process.version})`);
    const base = path.join(tmp, 'base');
    build('base', base);
    for (let i = 0; i < Number(values.runs); i++) {
      const fresh = path.join(tmp, 'fresh');
      await fs.rm(fresh, { recursive: true, force: true });
      table('fresh build', build('updated', fresh));
      const onto = path.join(tmp, 'onto-base');
      await fs.rm(onto, { recursive: true, force: true });
      await fs.cp(base, onto, { recursive: true });
      table('rebuild onto the rechunked `base`', build('updated', onto));
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

await main();
