import type { AnalyzeReport } from './analyze-report.js';
import {
  dedupFigures,
  defineFileView,
  lowerBound,
  relayering,
  topDuplicatedPaths,
  topDuplicatedTypes,
} from './dedup-figures.js';
import { imageFigures } from './image-figures.js';
import type { ParquetIndex } from './parquet-index.js';
import { seriesSteps, type PlanBudget } from './series-figures.js';
import type { ImageSummary } from './index-schema.js';

/** Every figure of the report, from the images' summaries and file tables in the index alone. */
export async function computeReport(
  index: ParquetIndex,
  images: readonly ImageSummary[],
  opts: { series: boolean; budget: PlanBudget },
  stats: AnalyzeReport['index'],
): Promise<AnalyzeReport> {
  const tables = images.map((s) => index.imageFilesPath(s.manifestDigest));
  await defineFileView(index.db, tables);
  const report: AnalyzeReport = {
    images: images.map(imageFigures),
    dedup: await dedupFigures(index.db, images),
    topDuplicatedPaths: await topDuplicatedPaths(index.db),
    topDuplicatedTypes: await topDuplicatedTypes(index.db),
    relayering: await relayering(index.db),
    index: stats,
  };
  if (opts.series) {
    const bounds: number[] = [];
    for (let i = 1; i < images.length; i++) bounds.push(await lowerBound(index.db, tables[i - 1]!, tables[i]!));
    report.steps = seriesSteps(images, opts.budget, bounds);
  }
  return report;
}
