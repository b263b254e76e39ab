/** What `rechunker analyze` reports; `--json` prints it as it is. Bytes are plain numbers. */

import type { ImageSummary, LayerSummary } from './index-schema.js';

/** An image's figures: its summary in the index (index-schema.ts), less what only the planner reads. */
export type ImageFigures = Pick<
  ImageSummary,
  | 'name'
  | 'manifestDigest'
  | 'compressedBytes'
  | 'uncompressedBytes'
  | 'files'
  | 'fileBytes'
  | 'directories'
  | 'distinctContents'
  | 'duplicateBytes'
  | 'wastedBytes'
> & {
  layers: Omit<LayerSummary, 'mediaType'>[];
  /** Bytes (a hardlink set once) per component kind, and the largest components. */
  componentsByKind: Record<string, { components: number; bytes: number }>;
  topComponents: { name: string; kind: string; bytes: number }[];
};

export interface DedupFigures {
  /** Files across all images: every image's files (a hardlink set once) against distinct contents. */
  files: { totalBytes: number; distinctBytes: number; totalCount: number; distinctCount: number; ratio: number };
  /** Layers across all images, compressed: every image's layers against distinct layer blobs. */
  layers: { totalBytes: number; distinctBytes: number; totalCount: number; distinctCount: number; ratio: number };
}

export interface DuplicatedPath {
  path: string;
  /** Images (or hardlink-less copies) holding it, and the bytes beyond one copy of each content. */
  copies: number;
  duplicatedBytes: number;
}

export interface DuplicatedType {
  /** File name extension ('' for none), version numbers left out: libfoo.so.1.4 is 'so'. */
  type: string;
  files: number;
  duplicatedBytes: number;
}

/** Distinct contents grouped by the set of images holding them (Skourtis et al.'s carving). */
export interface SharingGroup {
  images: number[];
  contents: number;
  bytes: number;
}

export interface Relayering {
  groups: SharingGroup[];
  /** Groups a perfect layering would make into layers (one per set of images). */
  layerCount: number;
  /** Bytes stored with that layering (each content once) and the bytes its layers share. */
  storedBytes: number;
  sharedBytes: number;
}

export interface SeriesStep {
  from: string;
  to: string;
  /** Compressed bytes of the image `to`. */
  imageBytes: number;
  /** Compressed bytes downloaded when blobs are reused by digest (containers/image, containerd). */
  blobDownload: number;
  /** ... when only a chain of identical bottom layers is reused (moby's classic store). */
  chainDownload: number;
  /** Contents of `to` that `from` does not hold, each gzip'd alone: no layering downloads less. */
  lowerBound: number;
  /**
   * What the image rechunked with the previous one as prior would download, blob reuse: the
   * layers whose components or contents changed, plus the layer of directories when a directory
   * did. An estimate: a layer weighs its files gzip'd one by one, the real layer is one gzip
   * stream of their tar (on the corpus 6% above a real `rechunk --prior`'s new layers;
   * test/e2e/analyze-rechunked.test.ts allows 10%).
   */
  rechunkedDownload: number;
  /** Layers of that rechunked image, and those of them the previous one lacks: exact, the planner's. */
  rechunkedLayers: number;
  rechunkedChangedLayers: number;
}

export interface AnalyzeReport {
  images: ImageFigures[];
  dedup: DedupFigures;
  topDuplicatedPaths: DuplicatedPath[];
  topDuplicatedTypes: DuplicatedType[];
  relayering: Relayering;
  steps?: SeriesStep[];
  /** Layers indexed by this run, and layers and images taken from the index. */
  index: { dir: string; layersIndexed: number; layersFromIndex: number; imagesFromIndex: number };
}
