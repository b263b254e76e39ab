/**
 * node --import tsx bench/runtime-downloads.ts: what an OS update really downloads in each runtime.
 *
 *   base --rechunk--> B;  updated --rechunk --prior B--> U;  both pushed to a loopback registry
 *
 * Each runtime (podman with its own --root, moby 20.10 overlay2, containerd 1.6 overlayfs, the
 * last two private daemons) pulls B, then U, through a counting proxy: the layer blob bytes it
 * fetched for U are printed beside the figures bench/update-cost.ts predicts from the manifests
 * (blob reuse, chain reuse) and the lower bound (the corpus's own diff layer). On the Debian
 * corpus, and on the rpm corpus when it exists. A runtime that cannot start is left out, and said.
 * Needs root and a built dist/ (the CLI runs from bin/run.js). Prints markdown.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { diffLayerBytes, updateCost, type LayerRef } from '../src/plan/update-cost.js';
import { runCli } from '../test/helpers/cli.js';
import { Containerd, containerdSkipReason } from '../test/helpers/containerd.js';
import { startCountingProxy, type CountingProxy } from '../test/helpers/counting-proxy.js';
import { Moby, mobySkipReason } from '../test/helpers/moby.js';
import { Podman } from '../test/helpers/podman.js';
import { startRegistry, type RegistryServer } from '../test/helpers/registry-server.js';
import { manifestLayers } from './update-cost.js';

interface Corpus {
  name: string;
  layout: string;
}

interface Puller {
  name: string;
  /** how the runtime reuses layers it holds: by blob digest, or only as a chain from the bottom */
  reuse: 'blob' | 'chain';
  pull(ref: string): Promise<void>;
}

const CORPORA: Corpus[] = [
  { name: 'debian', layout: path.join(process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus', 'oci') },
  { name: 'rpm', layout: path.join(process.env.RECHUNKER_RPM_CORPUS ?? '/var/tmp/rechunker-rpm-corpus', 'rpm-oci') },
];

const mb = (n: number): string => (n / 1e6).toFixed(2);

async function cli(args: string[]): Promise<void> {
  const r = await runCli([...args, '--quiet']);
  if (r.code !== 0) throw new Error(`rechunker ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Rechunks base and updated (with the rechunked base as prior) into a layout; pushes both. */
async function prepare(
  corpus: Corpus,
  work: string,
  registry: RegistryServer,
): Promise<{ base: LayerRef[]; updated: LayerRef[] }> {
  const out = path.join(work, corpus.name);
  await cli(['rechunk', `oci:${corpus.layout}:base`, `oci:${out}:base`, '--no-prior']);
  await cli(['rechunk', `oci:${corpus.layout}:updated`, `oci:${out}:updated`, '--prior', `oci:${out}:base`]);
  for (const tag of ['base', 'updated'])
    await cli(['copy', `oci:${out}:${tag}`, `docker://${registry.host}/${corpus.name}:${tag}`, '--tls-verify=false']);
  return { base: await manifestLayers(out, 'base'), updated: await manifestLayers(out, 'updated') };
}

/** Layer blobs of `layers` that a pull fetched in full or in part, and their bytes. */
function fetched(proxy: CountingProxy, layers: readonly LayerRef[]): { blobs: number; bytes: number } {
  const wanted = new Set(layers.map((l) => l.digest));
  const got = proxy.fetches.filter((f) => wanted.has(f.digest) && f.status >= 200 && f.status < 300);
  return { blobs: new Set(got.map((f) => f.digest)).size, bytes: got.reduce((n, f) => n + f.bytes, 0) };
}

/** podman, then containerd and moby where they start; `notes` says why one is left out. */
async function startRuntimes(
  proxy: CountingProxy,
  notes: string[],
  cleanups: Array<() => Promise<void>>,
): Promise<Puller[]> {
  const podman = await Podman.create();
  cleanups.push(() => podman.cleanup());
  const podmanVersion = (await podman.podman(['--version'])).trim().replace(/^podman version /, '');
  const pullers: Puller[] = [
    {
      name: `podman ${podmanVersion} (containers/storage overlay)`,
      reuse: 'blob',
      pull: (r) => podman.podman(['pull', '-q', '--tls-verify=false', `docker://${r}`]).then(() => {}),
    },
  ];
  const ctdWhy = await containerdSkipReason();
  let containerd: Containerd | undefined;
  if (ctdWhy) notes.push(`containerd left out: ${ctdWhy}`);
  else containerd = await Containerd.start().catch((e: unknown) => void notes.push(`containerd: ${String(e)}`));
  const mobyWhy = (await mobySkipReason()) ?? (containerd ? undefined : 'no containerd');
  let moby: Moby | undefined;
  if (mobyWhy) notes.push(`moby left out: ${mobyWhy}`);
  else {
    const start = Moby.start(containerd!, { insecureRegistries: [proxy.host] });
    moby = await start.catch((e: unknown) => void notes.push(`moby: ${String(e)}`));
  }
  if (containerd) cleanups.unshift(() => containerd.cleanup());
  if (moby) {
    cleanups.unshift(() => moby.cleanup());
    const version = (await moby.docker(['version', '--format', '{{.Server.Version}}'])).trim();
    pullers.push({ name: `moby ${version} (overlay2)`, reuse: 'chain', pull: (r) => moby.pull(r) });
  }
  if (containerd) {
    const version = /Server:\s*\n\s*Version:\s*(\S+)/.exec(await containerd.ctr(['version']))?.[1] ?? '?';
    pullers.push({ name: `containerd ${version} (overlayfs)`, reuse: 'blob', pull: (r) => containerd.pull(r) });
  }
  return pullers;
}

/** One corpus: its table of measured downloads beside the predicted ones. */
async function measure(
  corpus: Corpus,
  pullers: Puller[],
  work: string,
  registry: RegistryServer,
  proxy: CountingProxy,
) {
  const { base, updated } = await prepare(corpus, work, registry);
  const predicted = updateCost(base, updated);
  const corpusBase = await manifestLayers(corpus.layout, 'base');
  const lowerBound = diffLayerBytes(corpusBase, await manifestLayers(corpus.layout, 'updated-diff'));
  const size = `${updated.length} layers, ${mb(predicted.imageBytes)} MB`;
  const lines = [`### ${corpus.name} corpus: base -> updated (rechunked, --prior base; ${size})`, ''];
  lines.push('| runtime | layer blobs fetched | MB fetched | x lower bound | predicted MB (model) |');
  lines.push('|---|---:|---:|---:|---:|');
  for (const p of pullers) {
    await p.pull(`${proxy.host}/${corpus.name}:base`);
    proxy.reset();
    await p.pull(`${proxy.host}/${corpus.name}:updated`);
    const f = fetched(proxy, updated);
    const model = p.reuse === 'chain' ? predicted.chainDownload : predicted.blobDownload;
    const x = (f.bytes / lowerBound).toFixed(2);
    lines.push(
      `| ${p.name} | ${f.blobs}/${updated.length} | ${mb(f.bytes)} | ${x} | ${mb(model)} (${p.reuse} reuse) |`,
    );
  }
  const blobLayers = updated.length - predicted.blobReusedLayers;
  const chainLayers = updated.length - predicted.chainReusedLayers;
  lines.push(
    '',
    `Predicted from the manifests: blob reuse ${mb(predicted.blobDownload)} MB (${blobLayers} layers), ` +
      `chain reuse ${mb(predicted.chainDownload)} MB (${chainLayers} layers); ` +
      `lower bound ${mb(lowerBound)} MB (the corpus's diff layer).`,
    '',
  );
  return lines;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (private runtimes, overlay mounts)');
  const corpora = CORPORA.filter((c) => existsSync(path.join(c.layout, 'index.json')));
  const work = await mkdtemp('/var/tmp/rechunker-bench-rt-');
  const registry = await startRegistry();
  const proxy = await startCountingProxy(registry.port);
  const notes: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const pullers = await startRuntimes(proxy, notes, cleanups);
    const lines: string[] = [];
    for (const corpus of corpora) lines.push(...(await measure(corpus, pullers, work, registry, proxy)));
    process.stdout.write(`${lines.join('\n')}\n`);
    for (const n of notes) process.stderr.write(`note: ${n}\n`);
  } finally {
    for (const c of cleanups) await c().catch((e: unknown) => process.stderr.write(`cleanup: ${String(e)}\n`));
    await proxy.stop();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
