/**
 * npm run bench:copy: `rechunker copy` against `skopeo copy` for the same image, between an OCI
 * layout and a registry started here on loopback, both directions, in one run. The image is the
 * corpus's `updated` rechunked into 64 layers (many blobs: where transfer concurrency matters),
 * then the generated ~1 GB image of `npm run bench` rechunked the same way, where start-up no
 * longer decides.
 * Each figure is the best of three runs. Every push goes to a registry started for that push alone:
 * skopeo remembers where it pushed blobs before (containers/image's blob-info cache) and mounts
 * them instead of uploading, so a second push to the same registry measures no upload at all.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/helpers/registry-server.js';
import { measure } from './measure.js';
import { makeSyntheticImage } from './synthetic-image.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'run.js');
const corpus = process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus';
const RUNS = 3;

async function best(run: (i: number) => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) min = Math.min(min, await run(i));
  return min;
}

/** Run one push against a registry of its own, stopped afterwards. */
async function freshRegistry(push: (host: string) => Promise<number>): Promise<number> {
  const registry = await startRegistry({ auth: 'none' });
  try {
    return await push(registry.host);
  } finally {
    await registry.stop();
  }
}

interface Row {
  label: string;
  pushOurs: number;
  pushSkopeo: number;
  pullOurs: number;
  pullSkopeo: number;
}

/** Push and pull one image (a tag in an OCI layout) with both tools. */
async function compare(label: string, layout: string, tag: string, tmp: string): Promise<Row> {
  const rc = (args: string[]) =>
    measure(process.execPath, [cli, 'copy', ...args, '--tls-verify=false', '--quiet']).then((m) => m.wallSeconds);
  const sk = (args: string[]) =>
    measure('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--src-tls-verify=false', ...args]).then(
      (m) => m.wallSeconds,
    );
  const src = `oci:${layout}:${tag}`;
  const pushOurs = await best((i) => freshRegistry((h) => rc([src, `docker://${h}/ours${i}:img`])));
  const pushSkopeo = await best((i) => freshRegistry((h) => sk([src, `docker://${h}/skopeo${i}:img`])));
  const registry = await startRegistry({ auth: 'none' });
  try {
    const remote = `docker://${registry.host}/img:img`;
    await rc([src, remote]);
    const pullOurs = await best(async (i) => {
      const dir = path.join(tmp, `pull-ours${i}`);
      const t = await rc([remote, `oci:${dir}:img`]);
      await fs.rm(dir, { recursive: true, force: true });
      return t;
    });
    const pullSkopeo = await best(async (i) => {
      const dir = path.join(tmp, `pull-skopeo${i}`);
      const t = await sk([remote, `oci:${dir}:img`]);
      await fs.rm(dir, { recursive: true, force: true });
      return t;
    });
    return { label, pushOurs, pushSkopeo, pullOurs, pullSkopeo };
  } finally {
    await registry.stop();
  }
}

/** Rechunk `source` into 64 layers at `layout`:img; the label gets the layer count and size. */
async function prepare(label: string, source: string, layout: string): Promise<{ label: string; layout: string }> {
  const made = await measure(process.execPath, [cli, 'rechunk', source, `oci:${layout}:img`, '--quiet', '--json']);
  const layers = (JSON.parse(made.stdout) as { layers: { size: number }[] }).layers;
  return {
    label: `${label} (${layers.length} layers, ${(layers.reduce((n, l) => n + l.size, 0) / 1e6).toFixed(1)} MB)`,
    layout,
  };
}

async function main(): Promise<void> {
  const tmp = await fs.mkdtemp('/var/tmp/rechunker-bench-copy-');
  try {
    // The corpus image, then the generated ~1 GB one, where transfer rate rather than start-up decides.
    const synth = path.join(tmp, 'synthetic');
    await makeSyntheticImage(synth, 'raw', 500, 200, 10_000);
    const images = [
      await prepare('corpus `updated`', `oci:${corpus}/oci:updated`, path.join(tmp, 'corpus')),
      await prepare('generated 1.1 GB', `oci:${synth}:raw`, synth),
    ];
    console.log(`# copy benchmark: loopback registry, best of ${RUNS}\n`);
    console.log('| image | direction | rechunker copy | skopeo copy | ratio |');
    console.log('|---|---|---|---|---|');
    for (const img of images) {
      const r = await compare(img.label, img.layout, 'img', tmp);
      console.log(
        `| ${r.label} | oci layout -> registry | ${r.pushOurs.toFixed(2)} s | ${r.pushSkopeo.toFixed(2)} s | ${(r.pushOurs / r.pushSkopeo).toFixed(2)}x |`,
      );
      console.log(
        `| ${r.label} | registry -> oci layout | ${r.pullOurs.toFixed(2)} s | ${r.pullSkopeo.toFixed(2)} s | ${(r.pullOurs / r.pullSkopeo).toFixed(2)}x |`,
      );
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

await main();
