import type { ImageFigures } from './analyze-report.js';
import { byteOrder } from '../util/byte-order.js';
import type { ImageSummary } from './index-schema.js';

const TOP_COMPONENTS = 10;

/** The per-image part of the report, from the image's summary in the index. */
export function imageFigures(s: ImageSummary): ImageFigures {
  const byKind: ImageFigures['componentsByKind'] = {};
  for (const c of s.components) {
    byKind[c.kind] ??= { components: 0, bytes: 0 };
    const k = byKind[c.kind]!;
    k.components++;
    k.bytes += c.size;
  }
  const top = [...s.components].sort((a, b) => b.size - a.size || byteOrder(a.name, b.name)).slice(0, TOP_COMPONENTS);
  return {
    name: s.name,
    manifestDigest: s.manifestDigest,
    layers: s.layers.map((l) => ({
      digest: l.digest,
      compressedSize: l.compressedSize,
      contentBytes: l.contentBytes,
      tarBytes: l.tarBytes,
      entries: l.entries,
    })),
    compressedBytes: s.compressedBytes,
    uncompressedBytes: s.uncompressedBytes,
    files: s.files,
    fileBytes: s.fileBytes,
    directories: s.directories,
    distinctContents: s.distinctContents,
    duplicateBytes: s.duplicateBytes,
    wastedBytes: s.wastedBytes,
    componentsByKind: byKind,
    topComponents: top.map((c) => ({ name: c.name, kind: c.kind, bytes: c.size })),
  };
}
