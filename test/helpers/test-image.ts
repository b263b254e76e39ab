// Small images made in code for registry tests: random layer bytes (registries do not look
// inside layers), a config whose diff_ids list them, an OCI manifest; an index over several.
// Push and pull go through the ImageSink / ImageSource seam only.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  MediaType,
  type Descriptor,
  type ImageConfig,
  type Index,
  type Manifest,
  type Platform,
} from '../../src/oci/types.js';
import type { ImageSink, ImageSource, ResolvedImage } from '../../src/oci/transport.js';

export interface Blob {
  desc: Descriptor;
  data: Buffer;
}

export interface TestImage {
  layers: Blob[];
  config: Blob;
  manifest: Blob;
}

const sha256 = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

export function blob(data: Buffer, mediaType: string): Blob {
  return { data, desc: { mediaType, digest: sha256(data), size: data.length } };
}

export function makeImage(opts: { layerSizes: number[]; platform?: Platform; layers?: Blob[] }): TestImage {
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const layers = opts.layers ?? opts.layerSizes.map((n) => blob(randomBytes(n), MediaType.OciLayer));
  const config: ImageConfig = {
    ...platform,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.desc.digest) },
    config: { Labels: { nonce: randomBytes(8).toString('hex') } },
  };
  const configBlob = blob(Buffer.from(JSON.stringify(config)), MediaType.OciConfig);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: configBlob.desc,
    layers: layers.map((l) => l.desc),
  };
  return {
    layers,
    config: configBlob,
    manifest: blob(Buffer.from(JSON.stringify(manifest, null, 2)), MediaType.OciManifest),
  };
}

export function makeIndex(images: Array<{ image: TestImage; platform: Platform }>): Blob {
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: images.map(({ image, platform }) => ({ ...image.manifest.desc, platform })),
  };
  return blob(Buffer.from(JSON.stringify(index)), MediaType.OciIndex);
}

export function opener(b: Blob, chunk = 64 * 1024): () => Promise<Readable> {
  return async () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < b.data.length; i += chunk) parts.push(b.data.subarray(i, i + chunk));
    return Readable.from(parts);
  };
}

/** Blobs first (all at once: the sink bounds concurrency), the manifest last. */
export async function pushImage(sink: ImageSink, img: TestImage, opts: { withManifest?: boolean } = {}): Promise<void> {
  await Promise.all([img.config, ...img.layers].map((b) => sink.putBlob(b.desc, opener(b))));
  if (opts.withManifest !== false)
    await sink.putManifest(img.manifest.data, img.manifest.desc.mediaType, img.manifest.desc.digest);
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Resolve and read every layer; returns the resolved image and the layer bytes. */
export async function pullImage(
  source: ImageSource,
  platform: Platform = { os: 'linux', architecture: 'amd64' },
): Promise<{ resolved: ResolvedImage; layers: Buffer[] }> {
  const resolved = await source.resolve(platform);
  const layers: Buffer[] = [];
  for (const l of resolved.manifest.layers) layers.push(await readAll(await source.openBlob(l)));
  return { resolved, layers };
}
