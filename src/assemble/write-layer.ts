import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compressor, layerMediaType, type Compression } from '../compress/codec.js';
import { HashCounter } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { writeTar, type TarWriteItem } from '../tar/writer.js';
import type { ReuseCandidate } from './layer-reuse.js';

export interface BuiltLayer {
  /** The compressed blob, in the work directory until the sink takes it; absent when reused. */
  file?: string;
  mediaType: string;
  digest: string;
  size: number;
  diffId: string;
  uncompressedSize: number;
  /** The previous build's blob, taken as it is: nothing was compressed. */
  reused?: Descriptor;
}

export interface LayerSpec {
  /** The layer's entries; called again when a reuse check had to read them once already. */
  items: () => Iterable<TarWriteItem>;
  workDir: string;
  compression: Compression;
  level?: number;
  reuse?: ReuseCandidate;
}

/**
 * Build one layer. With a reuse candidate that the component fingerprints say is unchanged, the
 * tar is hashed first, without compressing it: the output is deterministic, so an equal diff_id
 * means the prior's blob is the very blob a full build would write, and compression (most of a
 * build's time) is skipped. Otherwise the tar is compressed in one pass, as a fresh build does.
 */
export async function buildLayer(spec: LayerSpec): Promise<BuiltLayer> {
  const candidate = spec.reuse;
  if (candidate?.likelySame) {
    const { diffId, size } = await hashTar(spec.items());
    if (diffId === candidate.prior.diffId && (await candidate.usable())) {
      const d = candidate.prior.descriptor;
      return { mediaType: d.mediaType, digest: d.digest, size: d.size, diffId, uncompressedSize: size, reused: d };
    }
  }
  return writeLayer(spec.items(), spec.workDir, spec.compression, spec.level);
}

/** The digest and length of the tar the entries make, nothing written. */
async function hashTar(items: Iterable<TarWriteItem>): Promise<{ diffId: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of writeTar(items)) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

/** Stream entries through tar and the compressor into a file, hashing both sides on the way. */
async function writeLayer(
  items: Iterable<TarWriteItem>,
  workDir: string,
  compression: Compression,
  level?: number,
): Promise<BuiltLayer> {
  const file = path.join(workDir, `layer-${randomBytes(6).toString('hex')}`);
  const tar = new HashCounter();
  const blob = new HashCounter();
  try {
    await pipeline(
      Readable.from(writeTar(items), { objectMode: false }),
      tar,
      compressor(compression, level),
      blob,
      createWriteStream(file),
    );
  } catch (e) {
    await fs.rm(file, { force: true });
    throw e;
  }
  return {
    file,
    mediaType: layerMediaType(compression),
    digest: blob.digest(),
    size: blob.bytes,
    diffId: tar.digest(),
    uncompressedSize: tar.bytes,
  };
}
