import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compressor, layerMediaType, type Compression } from '../compress/codec.js';
import { HashCounter } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { writeTar, type TarWriteItem } from '../tar/writer.js';
import { summarizeEntries } from './entries-digest.js';
import type { ReuseCandidate } from './layer-reuse.js';
import type { LayerItem } from './output-entries.js';

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
  /** The entries digest (entries-digest.ts), for the next build to compare with. */
  entries: string;
}

export interface LayerSpec {
  /** The layer's entries; called once per pass over them (summary, hash, write). */
  items: () => Iterable<LayerItem>;
  workDir: string;
  compression: Compression;
  level?: number;
  reuse?: ReuseCandidate;
}

/**
 * Build one layer. Its entries are summarized first (headers and body digests, no body read):
 * when the summary is the prior layer's, the tar is the prior's, so the prior's blob is the very
 * blob a full build would write and nothing is read, hashed or compressed. A prior layer from a
 * build that recorded no summary, whose components' fingerprints all match, is checked by hashing
 * the tar without compressing it. Otherwise the tar is compressed in one pass, as a fresh build does.
 */
export async function buildLayer(spec: LayerSpec): Promise<BuiltLayer> {
  const candidate = spec.reuse;
  const { digest: entries, tarSize } = summarizeEntries(spec.items());
  const reuse = (diffId: string): BuiltLayer => {
    const d = candidate!.prior.descriptor;
    return {
      mediaType: d.mediaType,
      digest: d.digest,
      size: d.size,
      diffId,
      uncompressedSize: tarSize,
      reused: d,
      entries,
    };
  };
  if (candidate?.prior.entries !== undefined) {
    if (candidate.prior.entries === entries && (await candidate.usable())) return reuse(candidate.prior.diffId);
  } else if (candidate?.likelySame) {
    const { diffId } = await hashTar(spec.items());
    if (diffId === candidate.prior.diffId && (await candidate.usable())) return reuse(diffId);
  }
  const built = await writeLayer(spec.items(), spec.workDir, spec.compression, spec.level);
  // The summary must foresee the writer exactly, or a later build would reuse on its word wrongly.
  if (built.uncompressedSize !== tarSize)
    throw new Error(`internal: the tar is ${built.uncompressedSize} bytes, its entries summary said ${tarSize}`);
  return { ...built, entries };
}

/** The digest of the tar the entries make, nothing written. */
async function hashTar(items: Iterable<TarWriteItem>): Promise<{ diffId: string }> {
  const hash = createHash('sha256');
  for await (const chunk of writeTar(items)) hash.update(chunk);
  return { diffId: `sha256:${hash.digest('hex')}` };
}

/** Stream entries through tar and the compressor into a file, hashing both sides on the way. */
async function writeLayer(
  items: Iterable<TarWriteItem>,
  workDir: string,
  compression: Compression,
  level?: number,
): Promise<Omit<BuiltLayer, 'entries'>> {
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
