/**
 * node --import tsx bench/keep-base.ts: what `--keep-base` saves a client that already holds the
 * base an image was built FROM.
 *
 * The corpus's `derived` is `updated` plus three layers (an install, a removal, an edit). A client
 * holds `updated`, as published. It then pulls `derived` in three forms: as built (the floor: its
 * own diff layers), rechunked whole (every layer its own, so nothing is shared with `updated`),
 * and rechunked with `--keep-base updated`. Download is by blob reuse and by chain reuse (moby),
 * from the manifests (src/plan/update-cost.ts); wall and peak RSS of each rechunk, same run.
 * Needs a built dist/. Prints markdown.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { updateCost } from '../src/plan/update-cost.js';
import { mdRow } from './markdown.js';
import { measure } from './measure.js';
import { manifestLayers } from './update-cost.js';

const layout = path.join(process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus', 'oci');
const bin = path.resolve(import.meta.dirname, '..', 'bin', 'run.js');
const mb = (n: number): string => `${(n / 1e6).toFixed(2)} MB`;

async function main(): Promise<void> {
  const work = await mkdtemp('/var/tmp/rechunker-bench-keep-base-');
  try {
    const held = await manifestLayers(layout, 'updated');
    const rows: Array<{ name: string; tag: string; dir: string; wall?: number; rss?: number }> = [
      { name: '`derived` as built (4 layers; the floor)', tag: 'derived', dir: layout },
    ];
    for (const [name, extra] of [
      ['`derived` rechunked whole', []],
      ['`derived` rechunked `--keep-base updated`', ['--keep-base', `oci:${layout}:updated`]],
    ] as const) {
      const dir = path.join(work, String(rows.length));
      const m = await measure(process.execPath, [
        bin,
        'rechunk',
        `oci:${layout}:derived`,
        `oci:${dir}:derived`,
        '--quiet',
        '--no-prior',
        ...extra,
      ]);
      rows.push({ name, tag: 'derived', dir, wall: m.wallSeconds, rss: m.peakRssBytes });
    }
    console.log(
      '| image | layers | whole image | download, blob reuse | download, chain reuse | rechunk wall | peak RSS |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const cost = updateCost(held, await manifestLayers(r.dir, r.tag));
      console.log(
        mdRow([
          r.name,
          cost.layers,
          mb(cost.imageBytes),
          mb(cost.blobDownload),
          mb(cost.chainDownload),
          r.wall === undefined ? '' : `${r.wall.toFixed(2)} s`,
          r.rss === undefined ? '' : `${Math.round(r.rss / 2 ** 20)} MiB`,
        ]),
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
