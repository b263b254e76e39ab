import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { HashCounter, sha256 } from '../src/oci/digest.js';
import { MediaType } from '../src/oci/types.js';
import { OciLayout } from '../src/layout/oci-layout.js';
import { newEntry } from '../src/tar/entry.js';
import { writeTar, type TarWriteItem } from '../src/tar/writer.js';

/** The shape of a generated image: `packages` x `filesPerPackage` files of `meanFileBytes` on average. */
export interface SyntheticShape {
  packages: number;
  filesPerPackage: number;
  meanFileBytes: number;
  /**
   * Every file its own content, as in a real image. Without it the generator's random numbers
   * repeat after ~6,000 draws (a product past 2^53 loses its low bits), so the ~1.1 GB image holds
   * only ~1,500 distinct contents; that shape keeps it, to stay comparable with earlier figures.
   */
  distinct?: boolean;
}

/** ~1.1 GB in 100,000 files: what `npm run bench` and `npm run bench:copy` generate. */
export const MEDIUM_IMAGE: SyntheticShape = { packages: 500, filesPerPackage: 200, meanFileBytes: 10_000 };
/** ~5 GB in 250,000 files: the size of a large bootc desktop image (`npm run bench:large`). */
export const LARGE_IMAGE: SyntheticShape = {
  packages: 1250,
  filesPerPackage: 200,
  meanFileBytes: 20_000,
  distinct: true,
};

/** makeSyntheticImage with a named shape. */
export function makeShapedImage(
  dir: string,
  tag: string,
  shape: SyntheticShape,
): Promise<{ files: number; bytes: number }> {
  return makeSyntheticImage(dir, tag, shape.packages, shape.filesPerPackage, shape.meanFileBytes, shape.distinct);
}

/**
 * A generated OS-like image for scale tests: `packages` dpkg packages of `filesPerPackage` files
 * each, with a status file and .list files, one gzip layer. Contents are pseudo-random words, so
 * they compress about as well as binaries do (roughly 2-3x). Deterministic for the same arguments.
 */
export async function makeSyntheticImage(
  dir: string,
  tag: string,
  packages: number,
  filesPerPackage: number,
  meanFileBytes: number,
  distinct = false,
): Promise<{ files: number; bytes: number }> {
  let seed = 12345;
  const step = distinct ? (s: number) => Math.imul(s, 1103515245) + 12345 : (s: number) => s * 1103515245 + 12345;
  const rand = () => (seed = step(seed) >>> 0) / 2 ** 32;
  const words = Array.from({ length: 4096 }, () => Math.floor(rand() * 2 ** 32).toString(36));
  const body = (n: number) => {
    const parts: string[] = [];
    let len = 0;
    while (len < n) {
      const w = words[Math.floor(rand() * words.length)]!;
      parts.push(w);
      len += w.length + 1;
    }
    return Buffer.from(parts.join(' ') + ' ').subarray(0, n);
  };
  let files = 0;
  let bytes = 0;
  function* items(): Generator<TarWriteItem> {
    const dirEntry = (p: string) => ({ entry: newEntry(p, 'dir', { mtimeSec: 1_700_000_000 }) });
    for (const d of ['usr', 'usr/lib', 'usr/share', 'var', 'var/lib', 'var/lib/dpkg', 'var/lib/dpkg/info'])
      yield dirEntry(d);
    const status: string[] = [];
    for (let p = 0; p < packages; p++) {
      const name = `pkg${String(p).padStart(4, '0')}`;
      status.push(`Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-${p}\n`);
      const list: string[] = [`/usr/lib/${name}`];
      yield dirEntry(`usr/lib/${name}`);
      for (let f = 0; f < filesPerPackage; f++) {
        const size = Math.max(1, Math.floor(meanFileBytes * 2 * rand()));
        const file = `usr/lib/${name}/f${f}.bin`;
        list.push(`/${file}`);
        files++;
        bytes += size;
        yield { entry: newEntry(file, 'file', { size, mtimeSec: 1_700_000_000 }), body: body(size) };
      }
      const listBytes = Buffer.from(list.join('\n') + '\n');
      yield { entry: newEntry(`var/lib/dpkg/info/${name}.list`, 'file', { size: listBytes.length }), body: listBytes };
    }
    const statusBytes = Buffer.from(status.join('\n'));
    yield { entry: newEntry('var/lib/dpkg/status', 'file', { size: statusBytes.length }), body: statusBytes };
  }

  const layout = new OciLayout(dir);
  await fs.mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const tmp = path.join(dir, 'blobs', 'sha256', '.tmp-synthetic');
  const tar = new HashCounter();
  const gz = new HashCounter();
  await pipeline(
    Readable.from(writeTar(items()), { objectMode: false }),
    tar,
    zlib.createGzip({ level: 1 }),
    gz,
    createWriteStream(tmp),
  );
  const layer = { mediaType: MediaType.OciLayerGzip, digest: gz.digest(), size: gz.bytes };
  await layout.adoptFile(tmp, layer);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [tar.digest()] } }),
  );
  const configDesc = { mediaType: MediaType.OciConfig, digest: sha256(config), size: config.length };
  await layout.writeBlobBytes(config, configDesc.digest);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: [layer] }),
  );
  await layout.writeBlobBytes(manifest, sha256(manifest));
  await layout.setManifest({ mediaType: MediaType.OciManifest, digest: sha256(manifest), size: manifest.length }, tag);
  return { files, bytes };
}
