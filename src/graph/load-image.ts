import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { decompressor, sniffCompression } from '../compress/codec.js';
import type { Progress } from '../engine/progress.js';
import { RechunkerError, withContext } from '../errors.js';
import { HashCounter, shortDigest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { ImageSource, ResolvedImage } from '../ref/transport.js';
import { readTar } from '../tar/reader.js';
import { applyLayer } from './apply-layer.js';
import type { ContentStore } from './content-store.js';
import { FileGraph } from './file-graph.js';

/** Read every layer of an image, in order, into one file graph. */
export async function loadImage(source: ImageSource, image: ResolvedImage, store: ContentStore, progress: Progress): Promise<FileGraph> {
  const graph = new FileGraph();
  if (source.loadTree) {
    await source.loadTree(graph, store, progress);
    await store.flush();
    return graph;
  }
  const layers = image.manifest.layers;
  for (let i = 0; i < layers.length; i++) {
    const desc = layers[i]!;
    const where = `${source.name}: layer ${i + 1}/${layers.length} (${shortDigest(desc.digest)})`;
    progress.phase(`reading layer ${i + 1}/${layers.length}`);
    try {
      await readLayer(source, desc, image.config.rootfs.diff_ids[i]!, graph, store, i, where, progress);
    } catch (e) {
      throw withContext(e, where);
    }
  }
  await store.flush();
  return graph;
}

async function readLayer(source: ImageSource, desc: Descriptor, diffId: string, graph: FileGraph, store: ContentStore, index: number, where: string, progress: Progress): Promise<void> {
  let read = 0;
  const tar = await decompressed(await source.openBlob(desc), (n) => progress.advance((read += n), desc.size, 'bytes'));
  const counter = new HashCounter();
  const stream = pipeline(tar, counter, () => {});
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // The tar reader may stop at the end-of-archive blocks; the rest must still be read so the
  // blob's digest and the diff_id are checked over every byte.
  const chunks: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({ next: () => it.next(), return: async () => ({ done: true, value: undefined }) }),
  };
  await applyLayer(graph, store, readTar(chunks, { where }), index, where);
  while (!(await it.next()).done);
  if (counter.digest() !== diffId) {
    throw new RechunkerError('DIGEST_MISMATCH', `uncompressed content hashes to ${counter.digest()}, the config's diff_id is ${diffId}`);
  }
}

/** Peek at the first bytes to pick the decompressor: media types are not always honest. */
export async function decompressed(blob: Readable, onBlobBytes: (n: number) => void = () => {}): Promise<Readable> {
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
