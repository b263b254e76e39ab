import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compressor, layerMediaType, type Compression } from '../compress/codec.js';
import { HashCounter } from '../oci/digest.js';
import { writeTar, type TarWriteItem } from '../tar/writer.js';

export interface BuiltLayer {
  /** The compressed blob, in the work directory until the sink takes it. */
  file: string;
  mediaType: string;
  digest: string;
  size: number;
  diffId: string;
  uncompressedSize: number;
}

/** Stream entries through tar and the compressor into a file, hashing both sides on the way. */
export async function writeLayer(items: Iterable<TarWriteItem>, workDir: string, compression: Compression, level?: number): Promise<BuiltLayer> {
  const file = path.join(workDir, `layer-${randomBytes(6).toString('hex')}`);
  const tar = new HashCounter();
  const blob = new HashCounter();
  try {
    await pipeline(Readable.from(writeTar(items), { objectMode: false }), tar, compressor(compression, level), blob, createWriteStream(file));
  } catch (e) {
    await fs.rm(file, { force: true });
    throw e;
  }
  return { file, mediaType: layerMediaType(compression), digest: blob.digest(), size: blob.bytes, diffId: tar.digest(), uncompressedSize: tar.bytes };
}
