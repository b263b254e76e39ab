import { ContentStore } from '../graph/content-store.js';
import type { Platform } from '../oci/types.js';
import { COMPRESSED_RATIO } from '../plan/cost.js';
import type { PackerName, Plan } from '../plan/plan-types.js';
import { readPriorPlan } from './prior-plan.js';
import { DEFAULT_PARENT_DIR_MODE, parentDirStrategy } from '../parents/index.js';
import { openSource, type TransportOptions } from './open-reference.js';
import { makeWorkDir, removeWorkDir } from '../util/work-dir.js';
import { readAndPlan } from './read-and-plan.js';
import { type BaseImage, openBase } from './keep-base.js';
import { hostXattrRule } from './image-edits.js';
import { silentProgress, type Progress } from '../progress.js';

export interface PreviewPlanOptions {
  source: string;
  platform: Platform;
  maxLayers: number;
  prior?: string;
  /** Plan only what SOURCE has above this image's layers (rechunk --keep-base). */
  keepBase?: string;
  packer?: PackerName;
  parentDirs?: string;
  workDir?: string;
  /** Report each component's paths too. */
  paths?: boolean;
  progress?: Progress;
  transport?: TransportOptions;
}

export interface PlanComponentReport {
  name: string;
  kind: string;
  size: number;
  changeProbability: number;
  fingerprint: string;
  history: string;
  /** Co-change group (source package), when there is one. */
  group?: string;
  /** Changelog dates (seconds, newest first), as detected: what the simulation replays. */
  changeTimes: number[];
  updateIntervalDays?: number;
  /** Its paths, byte order, when asked for (--paths). */
  paths?: string[];
}

export interface PreviewPlanResult {
  source: string;
  prior: string | null;
  maxLayers: number;
  /** Layers the parent-directory strategy adds on top of the component layers. */
  extraLayers: number;
  plan: Plan;
  components: PlanComponentReport[];
  /** Expected bytes per update, uncompressed and estimated compressed (x COMPRESSED_RATIO). */
  predicted: {
    expectedCost: number;
    expectedLowerBound: number;
    compressedCost: number;
    compressedLowerBound: number;
    imageSize: number;
  };
  warnings: string[];
}

/** What `rechunk` would pack, without writing anything: analyze, fingerprint, plan. */
export async function previewPlan(opts: PreviewPlanOptions): Promise<PreviewPlanResult> {
  const progress = opts.progress ?? silentProgress;
  const strategy = parentDirStrategy(opts.parentDirs ?? DEFAULT_PARENT_DIR_MODE);
  const source = await openSource(opts.source, { ...opts.transport, progress });
  const work = await makeWorkDir(opts.workDir, 'rechunker-plan-');
  const store = await ContentStore.create(work);
  let base: BaseImage | undefined;
  try {
    const prior = opts.prior ? await readPriorPlan(opts.prior, opts.platform, opts.transport) : undefined;
    if (opts.keepBase) base = await openBase(opts.keepBase, opts.platform, opts.transport);
    const {
      planned: components,
      warnings,
      plan,
    } = await readAndPlan(source, opts.platform, store, progress, {
      maxLayers: opts.maxLayers,
      extraLayers: strategy.extraLayers,
      // Compared as rechunk compares, so the plan is rechunk's (which would also leave host xattrs out).
      ...(base ? { base: { image: base, compare: hostXattrRule(opts.source, {}) } } : {}),
      ...(prior ? { prior } : {}),
      ...(opts.packer ? { packer: opts.packer } : {}),
    });
    const imageSize = components.reduce((s, c) => s + c.size, 0);
    return {
      source: opts.source,
      prior: opts.prior ?? null,
      maxLayers: opts.maxLayers,
      extraLayers: strategy.extraLayers,
      plan,
      components: components.map((c) => {
        const r = plan.components[c.name]!;
        const interval = c.meta?.updateIntervalDays;
        return {
          name: c.name,
          kind: c.kind,
          ...(c.group === undefined ? {} : { group: c.group }),
          size: c.size,
          changeProbability: r.changeProbability,
          fingerprint: r.fingerprint,
          history: r.history,
          changeTimes: c.meta?.changeTimes ?? [],
          ...(interval === undefined ? {} : { updateIntervalDays: interval }),
          ...(opts.paths ? { paths: c.paths } : {}),
        };
      }),
      predicted: {
        expectedCost: plan.expectedCost,
        expectedLowerBound: plan.expectedLowerBound,
        compressedCost: Math.round(plan.expectedCost * COMPRESSED_RATIO),
        compressedLowerBound: Math.round(plan.expectedLowerBound * COMPRESSED_RATIO),
        imageSize,
      },
      warnings,
    };
  } finally {
    progress.done();
    await store.close().catch(() => {});
    await removeWorkDir(work);
    await source.close();
    await base?.source.close();
  }
}
