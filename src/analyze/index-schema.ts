/**
 * The per-layer index: one Parquet file per layer blob, `layers/sha256-<hex>.parquet`, one row per
 * tar entry in archive order, so any engine that reads Parquet (DuckDB here; Spark or Trino over
 * object storage at registry scale) can query it. Layer-level facts are repeated on every row:
 * Parquet stores a repeated constant as one dictionary entry per row group, and a row-only schema
 * needs no second file per layer. An empty layer gets one row of type 'none'.
 *
 * Paths are tar byte strings (tar/entry.ts); `path` holds them decoded as UTF-8, and `path_bytes`
 * the raw bytes only when they are not valid UTF-8, so the index stays lossless and readable.
 */

/** Bump when a column changes meaning: a reader then refuses an old index instead of misreading it. */
import type { ComponentKind, ComponentMeta } from '../components/types.js';

export const INDEX_VERSION = 2;

export type IndexEntryType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'dir'
  | 'chardev'
  | 'blockdev'
  | 'fifo'
  | 'whiteout'
  | 'opaque'
  | 'none';

/** What the index knows of one layer blob. */
export interface LayerFacts {
  /** The blob's digest (compressed), the index key. */
  layerDigest: string;
  diffId: string;
  /** Compressed bytes, as the manifest says. */
  compressedSize: number;
  mediaType: string;
  /** Bytes of the file entries' contents (uncompressed; headers and padding not counted). */
  contentBytes: number;
  /** Bytes of the uncompressed tar, what the diff_id hashes: headers, padding and end blocks too. */
  tarBytes: number;
  entries: number;
}

/** One tar entry of a layer. */
export interface IndexEntry {
  seq: number;
  /** Byte string, as tar/entry.ts spells paths (the tar path itself for whiteouts). */
  path: string;
  type: IndexEntryType;
  size: number;
  /** sha256:... of the content (files; hardlinks to a file of the same layer). */
  digest: string | null;
  /** Bytes of the content gzip'd alone at level 6 (files): what fetching it by itself costs. */
  compressedSize: number | null;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtimeSec: number;
  mtimeNsec: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrNames: string[];
  xattrValues: Buffer[];
  /** The content itself, only for the few files component detection reads (see keepsContent). */
  content: Buffer | null;
}

/** Column order and DuckDB types of a layer file; the README documents the same. */
export const INDEX_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['layer_digest', 'VARCHAR'],
  ['diff_id', 'VARCHAR'],
  ['layer_size', 'BIGINT'],
  ['layer_media_type', 'VARCHAR'],
  ['layer_content_bytes', 'BIGINT'],
  ['layer_tar_bytes', 'BIGINT'],
  ['layer_entries', 'INTEGER'],
  ['index_version', 'INTEGER'],
  ['seq', 'INTEGER'],
  ['path', 'VARCHAR'],
  ['path_bytes', 'BLOB'],
  ['type', 'VARCHAR'],
  ['size', 'BIGINT'],
  ['digest', 'VARCHAR'],
  ['compressed_size', 'BIGINT'],
  ['mode', 'INTEGER'],
  ['uid', 'BIGINT'],
  ['gid', 'BIGINT'],
  ['uname', 'VARCHAR'],
  ['gname', 'VARCHAR'],
  ['mtime', 'BIGINT'],
  ['mtime_nsec', 'INTEGER'],
  ['linkname', 'VARCHAR'],
  ['devmajor', 'INTEGER'],
  ['devminor', 'INTEGER'],
  ['xattr_names', 'VARCHAR[]'],
  ['xattr_values', 'BLOB[]'],
  ['content', 'BLOB'],
];

// What component detection reads (components/dpkg.ts, rpm.ts, changelog.ts), matched anywhere in
// the tree because detection follows symlinked parents (`var/lib` may live under `usr/lib`).
// About 2 MB a Debian layer; without them a second run could not find packages or change dates.
const KEPT = [
  /(^|\/)dpkg\/(status|diversions|info\/[^/]+\.list)$/,
  /(^|\/)rpm\/rpmdb\.sqlite(-wal)?$/,
  /(^|\/)share\/doc\/[^/]+\/changelog[^/]*\.gz$/,
];

/** Is this a file whose content the index keeps? */
export function keepsContent(path: string): boolean {
  return KEPT.some((re) => re.test(path));
}

/** The Parquet file name of a layer inside the index directory. */
export function layerFileName(layerDigest: string): string {
  return `${layerDigest.replace(':', '-')}.parquet`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A byte-string path as text, and its raw bytes when the text cannot hold them. */
export function encodePath(path: string): { text: string; bytes: Buffer | null } {
  const raw = Buffer.from(path, 'latin1');
  try {
    return { text: utf8.decode(raw), bytes: null };
  } catch {
    return { text: raw.toString('utf8'), bytes: raw };
  }
}

export function decodePath(text: string, bytes: Buffer | null): string {
  return (bytes ?? Buffer.from(text, 'utf8')).toString('latin1');
}

/** One component of an image, as the planner needs it again (no paths: the file table has them). */
export interface ComponentSummary {
  name: string;
  kind: ComponentKind;
  size: number;
  /** Sum of its files' contents gzip'd alone: what a layer of it alone would weigh, about. */
  compressedSize: number;
  fingerprint: string;
  group?: string;
  meta?: ComponentMeta;
}

export interface LayerSummary {
  digest: string;
  mediaType: string;
  compressedSize: number;
  contentBytes: number;
  tarBytes: number;
  entries: number;
}

/** What one image holds, from its layers' index: every per-image figure, and the planner's inputs. */
export interface ImageSummary {
  name: string;
  manifestDigest: string;
  layers: LayerSummary[];
  compressedBytes: number;
  /** Bytes of the layers' uncompressed tars (what their diff_ids hash), summed. */
  uncompressedBytes: number;
  /** Regular-file paths (each path of a hardlink set counts), as `find -type f` counts. */
  files: number;
  /** Bytes of those files, a hardlink set once (as `du` counts). */
  fileBytes: number;
  directories: number;
  /** Distinct file contents, and the bytes of files whose content another file of the image holds. */
  distinctContents: number;
  duplicateBytes: number;
  /** Bytes of file entries in the layers that upper layers overwrote or deleted. */
  wastedBytes: number;
  components: ComponentSummary[];
  /** Changes when any directory's metadata does: the one layer of directories then changes. */
  dirFingerprint: string;
  /** Compressed bytes of that layer of directory entries. */
  dirLayerBytes: number;
}

/** One regular-file path of the flattened image: the rows the cross-image queries run over. */
export interface ImageFileRow {
  path: string;
  size: number;
  digest: string;
  compressedSize: number;
  /** Same number for every path of one hardlink set; `first` marks the set's first path. */
  inode: number;
  first: boolean;
  component: string;
}

/** One layer as the index holds it. */
export interface IndexedLayer {
  facts: LayerFacts;
  entries: IndexEntry[];
}
