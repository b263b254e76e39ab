import { pipeline, Readable } from 'node:stream';
import { decompressor, sniffCompression } from '../compress/codec.js';
import { RechunkerError } from '../errors.js';
import { HashCounter } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { ImageSource } from '../oci/transport.js';
import { readTar, type TarReadItem } from '../tar/reader.js';

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
    throw new RechunkerError('DIGEST_MISMATCH', `uncompressed content hashes to ${counter.digest()}, the config's diff_id is ${diffId}`);
  }
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
