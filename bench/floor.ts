/**
 * The floor a rechunk is measured against, as bench/rechunk.ts computes it: gzip -d of every input
 * layer plus pigz -p 2 -6 of the output's uncompressed bytes, the decompression and compression
 * any rechunker must do, with the best parallel gzip this 2-core machine has.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { measure } from './measure.js';

export interface Floor {
  seconds: number;
  decompress: number;
  compress: number;
  /** Uncompressed bytes of the output layers. */
  outputBytes: number;
}

/** Blob paths of the layers of the manifest tagged `tag` in an OCI layout. */
export async function manifestLayers(layoutDir: string, tag: string): Promise<string[]> {
  const index = JSON.parse(await fs.readFile(path.join(layoutDir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`no tag ${tag} in ${layoutDir}`);
  const blob = (d: string) => path.join(layoutDir, 'blobs', 'sha256', d.slice(7));
  const manifest = JSON.parse(await fs.readFile(blob(entry.digest), 'utf8')) as { layers: { digest: string }[] };
  return manifest.layers.map((l) => blob(l.digest));
}

/** `tmp` holds the output's uncompressed bytes for a moment (as large as the image). */
export async function measureFloor(inputLayers: string[], outputLayers: string[], tmp: string): Promise<Floor> {
  let decompress = 0;
  for (const f of inputLayers) decompress += (await measure('sh', ['-c', `gzip -dc "$0" > /dev/null`, f])).wallSeconds;
  const raw = path.join(tmp, 'output.tar');
  const out = await fs.open(raw, 'w');
  for (const f of outputLayers)
    for await (const chunk of createReadStream(f).pipe(zlib.createGunzip())) await out.write(chunk as Buffer);
  await out.close();
  const outputBytes = (await fs.stat(raw)).size;
  const compress = (await measure('sh', ['-c', `pigz -p 2 -6 -c "$0" > /dev/null`, raw])).wallSeconds;
  await fs.rm(raw);
  return { seconds: decompress + compress, decompress, compress, outputBytes };
}
