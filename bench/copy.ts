/**
 * npm run bench:copy: `rechunker copy` against `skopeo copy` for the same image, between an OCI
 * layout and a registry started here on loopback, both directions, in one run. The image is the
 * corpus's `updated` rechunked into 64 layers (many blobs: where transfer concurrency matters).
 * Each figure is the best of three runs. Every push goes to a registry started for that push alone:
 * skopeo remembers where it pushed blobs before (containers/image's blob-info cache) and mounts
 * them instead of uploading, so a second push to the same registry measures no upload at all.
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

/** Run one push against a registry of its own, stopped afterwards. */
async function freshRegistry(push: (host: string) => Promise<number>): Promise<number> {
  const registry = await startRegistry({ auth: 'none' });
  try {
    return await push(registry.host);
  } finally {
    await registry.stop();
  }
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

    const pushOurs = await best((i) => freshRegistry((h) => rc([`oci:${layout}:img`, `docker://${h}/ours${i}:img`])));
    const pushSkopeo = await best((i) => freshRegistry((h) => sk([`oci:${layout}:img`, `docker://${h}/skopeo${i}:img`])));
    await rc([`oci:${layout}:img`, `docker://${host}/ours0:img`]);
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
