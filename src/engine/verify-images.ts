import { PARENT_DIRS_ANNOTATION } from '../plan/recorded-plan.js';
import { silentProgress, type Progress } from '../progress.js';
import { ContentStore } from '../graph/content-store.js';
import { loadImage } from '../graph/load-image.js';
import type { Platform } from '../oci/types.js';
import { openSource, type TransportOptions } from './open-reference.js';
import { makeWorkDir, removeWorkDir } from '../util/work-dir.js';
import { compareTrees, type CompareOptions, type Difference } from '../verify/compare.js';
import { flattenGraph, type FlatTree } from '../verify/flat-tree.js';
import { readLayerTrees } from '../verify/layer-trees.js';
import { mergeOverlay, type OverlayModel } from '../verify/merge-overlay.js';

/**
 * How an unpacker turns layers into a tree:
 * - `oci`: layers applied into one tree (image-spec semantics; an implied directory keeps its metadata);
 * - `overlay`: each layer in its own directory, implied parents made as containers/storage makes
 *   them (0755, root, time of unpacking), merged top-down as overlayfs merges;
 * - `delegate`: as overlay, but an implied directory takes its metadata from the nearest lower
 *   layer that defines it (dirmeta_delegate), else falls back to overlay's default;
 * - `containerd`: as overlay, but an implied directory takes mode, owner and xattrs from the nearest
 *   lower layer that has it, its mtime the time of unpacking (containerd's overlayfs snapshotter).
 * moby's overlay2 makes implied directories as containers/storage does: `overlay` models it.
 */
export const VERIFY_MODELS = ['oci', 'overlay', 'delegate', 'containerd'] as const;
export type VerifyModel = (typeof VERIFY_MODELS)[number];

export interface VerifyOptions {
  /** Any two references: images, or a root filesystem (rootfs:DIR). */
  a: string;
  b: string;
  models: readonly VerifyModel[];
  platform: Platform;
  workDir?: string;
  transport?: TransportOptions;
  progress?: Progress;
  /** Fields left out of the comparison (see verify/compare.ts). */
  ignore?: CompareOptions['ignore'];
}

export interface SideReport {
  reference: string;
  layers: number;
  /** The image's recorded --parent-dirs mode, when rechunker made it. */
  parentDirs?: string;
}

export interface ModelReport {
  model: VerifyModel;
  /** Paths each side shows under this model (the root excluded). */
  entries: { a: number; b: number };
  /** Directories each side shows with the unpacker's default metadata under this model. */
  defaulted: { a: number; b: number };
  differences: Difference[];
}

export interface VerifyResult {
  a: SideReport;
  b: SideReport;
  models: ModelReport[];
  /** Total differences over every model: the images are equal under them all when 0. */
  differences: number;
}

/** Flatten A and B under each model and compare them entry by entry. */
export async function verifyImages(opts: VerifyOptions): Promise<VerifyResult> {
  const progress = opts.progress ?? silentProgress;
  const work = await makeWorkDir(opts.workDir, 'rechunker-verify-');
  const store = await ContentStore.create(work);
  try {
    const a = await flattenSide(opts.a, opts, store, progress);
    const b = await flattenSide(opts.b, opts, store, progress);
    progress.phase('comparing');
    const models = opts.models.map((model): ModelReport => {
      const ta = a.trees.get(model)!;
      const tb = b.trees.get(model)!;
      const differences = compareTrees(ta, tb, opts.ignore ? { ignore: opts.ignore } : {});
      return {
        model,
        entries: { a: ta.size, b: tb.size },
        defaulted: { a: defaulted(ta), b: defaulted(tb) },
        differences,
      };
    });
    return { a: a.report, b: b.report, models, differences: models.reduce((n, m) => n + m.differences.length, 0) };
  } finally {
    progress.done();
    await store.close().catch(() => {});
    await removeWorkDir(work);
  }
}

async function flattenSide(
  ref: string,
  opts: VerifyOptions,
  store: ContentStore,
  progress: Progress,
): Promise<{ report: SideReport; trees: Map<VerifyModel, FlatTree> }> {
  const source = await openSource(ref, { ...opts.transport, progress });
  try {
    progress.phase(`resolving ${ref}`);
    const image = await source.resolve(opts.platform);
    const trees = new Map<VerifyModel, FlatTree>();
    // A source without layers (a directory) is one tree, whatever the unpacker.
    const perLayer = opts.models.filter((m) => m !== 'oci' && source.kind === 'image');
    if (perLayer.length < opts.models.length) {
      const flat = flattenGraph(await loadImage(source, image, store, progress));
      for (const m of opts.models) if (!perLayer.includes(m)) trees.set(m, flat);
    }
    if (perLayer.length > 0 && source.kind === 'image') {
      const layers = await readLayerTrees(source, image, store, progress);
      for (const m of perLayer) trees.set(m, mergeOverlay(layers, m as OverlayModel));
    }
    const mode = image.manifest.annotations?.[PARENT_DIRS_ANNOTATION];
    return {
      report: { reference: ref, layers: image.manifest.layers.length, ...(mode ? { parentDirs: mode } : {}) },
      trees,
    };
  } finally {
    await source.close();
  }
}

function defaulted(tree: FlatTree): number {
  let n = 0;
  for (const e of tree.values()) if (e.defaulted) n++;
  return n;
}
