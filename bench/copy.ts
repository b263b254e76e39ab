/**
 * npm run bench:copy: `rechunker copy` against `skopeo copy` for the same image, between an OCI
 * layout and a registry started here on loopback, both directions, in one run. The image is the
 * corpus's `updated` rechunked into 64 layers (many blobs: where transfer concurrency matters).
 * Each figure is the best of three runs; every push goes to a fresh repository so nothing is skipped.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/helpers/registry-server.js';
import { measure } from './measure.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'bin', 'run.js');
const corpus = process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus';
const RUNS = 3;

async function best(run: (i: number) => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) min = Math.min(min, await run(i));
  return min;
}

async function main(): Promise<void> {
  const tmp = await fs.mkdtemp('/var/tmp/rechunker-bench-copy-');
  const registry = await startRegistry({ auth: 'none' });
  try {
    const layout = path.join(tmp, 'src');
    const made = await measure(process.execPath, [cli, 'rechunk', `oci:${corpus}/oci:updated`, `oci:${layout}:img`, '--quiet', '--json']);
    const { layers } = JSON.parse(made.stdout) as { layers: { size: number }[] };
    const bytes = layers.reduce((n, l) => n + l.size, 0);
    const host = registry.host;
    const rc = (args: string[]) => measure(process.execPath, [cli, 'copy', ...args, '--tls-verify=false', '--quiet']).then((m) => m.wallSeconds);
    const sk = (args: string[]) => measure('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--src-tls-verify=false', ...args]).then((m) => m.wallSeconds);

    const pushOurs = await best((i) => rc([`oci:${layout}:img`, `docker://${host}/ours${i}:img`]));
    const pushSkopeo = await best((i) => sk([`oci:${layout}:img`, `docker://${host}/skopeo${i}:img`]));
    const pullOurs = await best((i) => rc([`docker://${host}/ours0:img`, `oci:${path.join(tmp, `pull-ours${i}`)}:img`]));
    const pullSkopeo = await best((i) => sk([`docker://${host}/ours0:img`, `oci:${path.join(tmp, `pull-skopeo${i}`)}:img`]));

    console.log(`# copy benchmark: ${layers.length} layers, ${(bytes / 1e6).toFixed(1)} MB, loopback registry (best of ${RUNS})\n`);
    console.log('| direction | rechunker copy | skopeo copy | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| oci layout -> registry | ${pushOurs.toFixed(2)} s | ${pushSkopeo.toFixed(2)} s | ${(pushOurs / pushSkopeo).toFixed(2)}x |`);
    console.log(`| registry -> oci layout | ${pullOurs.toFixed(2)} s | ${pullSkopeo.toFixed(2)} s | ${(pullOurs / pullSkopeo).toFixed(2)}x |`);
  } finally {
    await registry.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

await main();
