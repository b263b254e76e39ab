import { promises as fs } from 'node:fs';
import zlib from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { sha256 } from '../../src/oci/digest.js';
import { MediaType, type Descriptor, type ImageConfig } from '../../src/oci/types.js';
import { OciLayout } from '../../src/layout/oci-layout.js';
import { writeTar, type TarWriteItem } from '../../src/tar/writer.js';

/** A whole tar archive in memory, written by our writer. */
export async function tarBytes(items: TarWriteItem[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of writeTar(items)) parts.push(b);
  return Buffer.concat(parts);
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export interface MadeImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

function compressBytes(tar: Buffer, c: LayerCompression): { bytes: Buffer; mediaType: string } {
  if (c === 'gzip') return { bytes: zlib.gzipSync(tar, { level: 6 }), mediaType: MediaType.OciLayerGzip };
  if (c === 'zstd') return { bytes: zstdCompress(tar), mediaType: MediaType.OciLayerZstd };
  return { bytes: tar, mediaType: MediaType.OciLayer };
}

/**
 * Write an image made of the given layer tars into an OCI layout under `tag`. `alterBlob` changes
 * a compressed layer before its descriptor is made (a truncated stream that its digest vouches for).
 */
export async function makeImage(
  dir: string,
  tag: string,
  tars: Buffer[],
  opts: {
    compression?: LayerCompression;
    config?: Partial<ImageConfig>;
    alterBlob?: (compressed: Buffer) => Buffer;
    docker?: boolean;
  } = {},
): Promise<MadeImage> {
  const layout = new OciLayout(dir);
  const layers: Descriptor[] = [];
  for (const tar of tars) {
    const compressed = compressBytes(tar, opts.compression ?? 'gzip');
    const bytes = opts.alterBlob ? opts.alterBlob(compressed.bytes) : compressed.bytes;
    const mediaType = opts.docker ? MediaType.DockerLayerGzip : compressed.mediaType;
    const digest = sha256(bytes);
    await layout.writeBlobBytes(bytes, digest);
    layers.push({ mediaType, digest, size: bytes.length });
  }
  const config: ImageConfig = {
    created: '2025-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/bin'], Cmd: ['/bin/sh'], Labels: { 'org.example.kept': 'yes' } },
    rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) },
    history: tars.map(() => ({ created: '2025-01-01T00:00:00Z', created_by: 'test' })),
    ...opts.config,
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc = {
    mediaType: opts.docker ? MediaType.DockerConfig : MediaType.OciConfig,
    digest: sha256(configBytes),
    size: configBytes.length,
  };
  await layout.writeBlobBytes(configBytes, configDesc.digest);
  const manifestType = opts.docker ? MediaType.DockerManifest : MediaType.OciManifest;
  const manifestBytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: manifestType, config: configDesc, layers }),
  );
  const manifest = { mediaType: manifestType, digest: sha256(manifestBytes), size: manifestBytes.length };
  await layout.writeBlobBytes(manifestBytes, manifest.digest);
  await layout.setManifest(manifest, tag);
  return { manifest, config: configDesc, layers };
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T;
}
