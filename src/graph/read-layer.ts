import { pipeline, Readable } from 'node:stream';
import { decompressor, sniffCompression } from '../compress/codec.js';
import { RechunkerError, withContext } from '../errors.js';
import { HashCounter, shortDigest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { ImageSource, ResolvedImage } from '../oci/transport.js';
import type { Progress } from '../progress.js';
import { readTar, type TarReadItem } from '../tar/reader.js';

/**
 * Each layer of an image in order, its entries handed to `consume` (index and a `where` naming
 * the layer for messages); an error from a layer is named by it once.
 */
export async function readLayers<T>(
  source: ImageSource,
  image: ResolvedImage,
  progress: Progress,
  consume: (items: AsyncIterable<TarReadItem>, index: number, where: string) => Promise<T>,
): Promise<T[]> {
  const layers = image.manifest.layers;
  const results: T[] = [];
  for (let i = 0; i < layers.length; i++) {
    const desc = layers[i]!;
    const where = `${source.name}: layer ${i + 1}/${layers.length} (${shortDigest(desc.digest)})`;
    progress.phase(`reading layer ${i + 1}/${layers.length}`);
    let read = 0;
    const onBytes = (n: number) => {
      read += n;
      progress.advance(read, desc.size, 'bytes');
    };
    try {
      const diffId = image.config.rootfs.diff_ids[i]!;
      results.push(await readLayerEntries(source, desc, diffId, where, (items) => consume(items, i, where), onBytes));
    } catch (e) {
      throw withContext(e, where);
    }
  }
  return results;
}

/**
 * Hand one layer's tar entries to `consume`, then check the whole layer: the blob's digest (the
 * source verifies it as it streams) and the diff_id over the uncompressed bytes. The tar reader
 * may stop at the end-of-archive blocks, so what follows them is read too: every byte is checked.
 */
export async function readLayerEntries<T>(
  source: ImageSource,
  desc: Descriptor,
  diffId: string,
  where: string,
  consume: (items: AsyncIterable<TarReadItem>) => Promise<T>,
  onBlobBytes: (n: number) => void = () => {},
  onTarBytes: (n: number) => void = () => {},
): Promise<T> {
  const tar = await decompressed(await source.openBlob(desc), onBlobBytes);
  const counter = new HashCounter();
  const stream = pipeline(tar, counter, () => {});
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({ next: () => it.next(), return: async () => ({ done: true, value: undefined }) }),
  };
  const result = await consume(readTar(chunks, { where }));
  while (!(await it.next()).done);
  if (counter.digest() !== diffId) {
    throw new RechunkerError(
      'DIGEST_MISMATCH',
      `uncompressed content hashes to ${counter.digest()}, the config's diff_id is ${diffId}`,
    );
  }
  onTarBytes(counter.bytes);
  return result;
}

/** Peek at the first bytes to pick the decompressor: media types are not always honest. */
async function decompressed(blob: Readable, onBlobBytes: (n: number) => void): Promise<Readable> {
  const it = blob[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : first.value;
  const rest = Readable.from(
    (async function* () {
      if (!first.done) {
        onBlobBytes(head.length);
        yield head;
      }
      for (let r = await it.next(); !r.done; r = await it.next()) {
        onBlobBytes(r.value.length);
        yield r.value;
      }
    })(),
    { objectMode: false },
  );
  return pipeline(rest, decompressor(sniffCompression(head)), () => {});
}
