import { PassThrough, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { CompressStream, DecompressStream } from 'zstd-napi';
import { RechunkerError } from '../errors.js';
import { BlockGzip } from './block-gzip.js';
import { MediaType } from '../oci/types.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export const DEFAULT_LEVEL: Record<Compression, number> = { gzip: 6, zstd: 3, none: 0 };

const ZSTD_FRAME = 0xfd2fb528;
/** RFC 8878 3.1.2: skippable frames (metadata a zstd stream may start with) are 0x184D2A5?. */
const ZSTD_SKIPPABLE = 0x184d2a50;

/** Media types lie now and then (uncompressed blobs labelled gzip); the first bytes do not. */
export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4) {
    const magic = head.readUInt32LE(0);
    if (magic === ZSTD_FRAME || (magic & 0xfffffff0) >>> 0 === ZSTD_SKIPPABLE) return 'zstd';
  }
  return 'none';
}

/**
 * zstd-napi fails with zstd's own words and no code ("Unknown frame descriptor"), which would be
 * reported as a filesystem failure: a broken stream is CORRUPT_BLOB, as a broken gzip one is.
 */
class ZstdDecompress extends DecompressStream {
  override _transform(chunk: Buffer, encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    super._transform(chunk, encoding, (err) => done(err ? corruptZstd(err) : err));
  }
  override _flush(done: (err?: Error | null) => void): void {
    super._flush((err) => done(err ? corruptZstd(err) : err));
  }
}

function corruptZstd(err: Error): RechunkerError {
  return new RechunkerError('CORRUPT_BLOB', `zstd data is corrupt or truncated (${err.message})`, { cause: err });
}

export function decompressor(kind: Compression): Transform {
  if (kind === 'gzip') return zlib.createGunzip({ chunkSize: 256 * 1024 });
  if (kind === 'zstd') return new ZstdDecompress();
  return new PassThrough();
}

export function compressor(kind: Compression, level?: number): Transform {
  const lvl = level ?? DEFAULT_LEVEL[kind];
  if (kind === 'gzip') {
    if (lvl < 1 || lvl > 9) throw new RechunkerError('USAGE', `gzip level must be 1..9, got ${lvl}`);
    return new BlockGzip(lvl);
  }
  if (kind === 'zstd') {
    if (lvl < 1 || lvl > 19) throw new RechunkerError('USAGE', `zstd level must be 1..19, got ${lvl}`);
    return new CompressStream({ compressionLevel: lvl, checksumFlag: true });
  }
  return new PassThrough();
}

export function layerMediaType(kind: Compression): string {
  return kind === 'gzip' ? MediaType.OciLayerGzip : kind === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayer;
}
