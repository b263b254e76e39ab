import type { Compression } from '../compress/codec.js';
import type { Platform } from '../oci/types.js';
import type { PackerName } from '../plan/plan-types.js';
import type { DirMtimeMode } from '../parents/index.js';
import type { Progress } from '../progress.js';
import type { TransportOptions } from './open-reference.js';
import type { TransferSummary } from './blob-tally.js';
import type { EditReport, ImageEditOptions } from './image-edits.js';

/** What `rechunk` is asked (the command's flags) and what it reports (`--json`). */
export interface RechunkOptions {
  source: string;
  destination: string;
  platform: Platform;
  maxLayers: number;
  compression: Compression;
  compressionLevel?: number;
  sourceDateEpoch?: number;
  workDir?: string;
  /** Layers built at once (default two per core, see rechunk.ts). */
  jobs?: number;
  progress?: Progress;
  /** Where directory entries go (see src/parents). */
  parentDirs?: string;
  /** 'clamp' sets every directory's mtime to DIR_MTIME_CLAMP (see src/parents/index.ts). */
  dirMtime?: DirMtimeMode;
  /** Reference of the previous rechunked build, whose recorded plan guides this one. */
  prior?: string;
  /** Do not take the plan of the image already at DESTINATION as the prior. */
  noPrior?: boolean;
  /** Packing algorithm; 'chunkah' and 'single' exist only to measure it against (hidden flag). */
  packer?: PackerName;
  /** Registry credentials, TLS and transfer width for registry references. */
  transport?: TransportOptions;
  /** --prune, --label, --annotation, --config, host xattrs (see image-edits.ts). */
  edits?: ImageEditOptions;
  /** Keep the bottom layers SOURCE shares with this image as they are; rechunk only what is above. */
  keepBase?: string;
  /**
   * The tool's version, recorded with the build's input (unchanged-input.ts): with it, a build
   * whose input is the input of the image already at DESTINATION does nothing.
   */
  toolVersion?: string;
}

export interface LayerReport {
  digest: string;
  size: number;
  /** null for a kept layer (its bytes are the base's, not counted here) and when nothing was built. */
  uncompressedSize: number | null;
  components: string[];
  /** The previous build's blob, found at the destination holding this very tar (same entries): not compressed again. */
  reused: boolean;
  /** A layer of --keep-base's image, as that image has it. */
  kept: boolean;
}

export interface RechunkResult {
  source: string;
  destination: string;
  manifestDigest: string;
  layers: LayerReport[];
  components: number;
  files: number;
  directories: number;
  largestLayer: number;
  medianLayer: number;
  warnings: string[];
  /** The reference whose recorded plan guided this build, or null. */
  prior: string | null;
  /** --keep-base's reference and how many of its layers the output starts with, or null. */
  keptBase: { ref: string; layers: number } | null;
  /** Expected uncompressed bytes per update, and how the prior was used (see src/plan). */
  plan: { expectedCost: number; expectedLowerBound: number; notes: string[] };
  /** Layers whose blob the destination already had (the prior build's, or any other) or mounted; the rest were uploaded. */
  layersReused: number;
  transfer: TransferSummary;
  /** What --prune and the host-xattr rule left out, and the labels bootc's rules removed. */
  edits: EditReport;
  /** DESTINATION already held this build (same input, every blob there): nothing was read or written. */
  unchanged: boolean;
}
