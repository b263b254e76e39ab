import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnalyzeReport } from '../analyze/analyze-report.js';
import type { ParquetIndex } from '../analyze/parquet-index.js';
import { RechunkerError, withContext } from '../errors.js';
import { readLayerEntries } from '../graph/read-layer.js';
import { shortDigest } from '../oci/digest.js';
import type { ImageSource } from '../oci/transport.js';
import type { Descriptor, Platform } from '../oci/types.js';
import { DEFAULT_PARENT_DIR_MODE, parentDirStrategy } from '../parents/index.js';
import { silentProgress, type Progress } from '../progress.js';
import { openSource, type TransportOptions } from './open-reference.js';
import type { ImageSummary, IndexedLayer } from '../analyze/index-schema.js';
import type { LayerCache } from '../analyze/layer-cache.js';

export interface AnalyzeOptions {
  /** References in series order; none: every image the index holds, by name. */
  refs: string[];
  platform: Platform;
  /** The index directory; default $XDG_CACHE_HOME/rechunker/analyze (~/.cache/...). */
  indexDir?: string;
  /** Index the images and stop (a worker of a shared index). */
  onlyIndex?: boolean;
  series?: boolean;
  /** Write the HTML page here. */
  html?: string;
  /** The rechunked image the series is compared with: --max-layers and the default parent-directory mode. */
  maxLayers?: number;
  progress?: Progress;
  transport?: TransportOptions;
}

export interface IndexOnlyResult {
  index: AnalyzeReport['index'];
  images: { name: string; manifestDigest: string }[];
}

const DEFAULT_MAX_LAYERS = 64;
/** Rows of recently read layers kept for the next images: two Debian base layers' worth. */
const LAYER_CACHE_BYTES = 32 << 20;

export function defaultIndexDir(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'rechunker', 'analyze');
}

/**
 * `rechunker analyze`: index every layer not yet in the index (each layer blob read once, ever),
 * summarise every image not yet summarised, then compute the figures from the index alone.
 */
export async function analyzeImages(opts: AnalyzeOptions): Promise<AnalyzeReport | IndexOnlyResult> {
  const progress = opts.progress ?? silentProgress;
  const dir = opts.indexDir ?? defaultIndexDir();
  if (opts.onlyIndex && opts.refs.length === 0)
    throw new RechunkerError('USAGE', '--only-index needs the references to index');
  // Without references the report is of what the index holds: a mistyped directory is an error,
  // not an empty report (nor a new directory).
  const nothing = () =>
    new RechunkerError(
      'USAGE',
      `no images to analyze: give references, or an --index that holds some (${dir} holds none)`,
    );
  if (opts.refs.length === 0 && !(await fs.stat(dir).catch(() => null))) throw nothing();
  // The analysis modules load DuckDB: only this command pays for it.
  const { ParquetIndex } = await import('../analyze/parquet-index.js');
  const index = await ParquetIndex.open(dir);
  const { LayerCache } = await import('../analyze/layer-cache.js');
  const cache = new LayerCache(LAYER_CACHE_BYTES);
  const stats = { dir, layersIndexed: 0, layersFromIndex: 0, imagesFromIndex: 0 };
  try {
    const summaries: ImageSummary[] = [];
    for (const ref of opts.refs) summaries.push(await indexImage(index, cache, ref, opts, progress, stats));
    if (opts.refs.length === 0) {
      summaries.push(...(await index.listImages()));
      stats.imagesFromIndex = summaries.length;
      if (summaries.length === 0) throw nothing();
    }
    if (opts.onlyIndex)
      return { index: stats, images: summaries.map((s) => ({ name: s.name, manifestDigest: s.manifestDigest })) };
    progress.phase('computing figures');
    const { computeReport } = await import('../analyze/compute-report.js');
    const maxLayers = opts.maxLayers ?? DEFAULT_MAX_LAYERS;
    const budget = { maxLayers, layerBudget: maxLayers - parentDirStrategy(DEFAULT_PARENT_DIR_MODE).extraLayers };
    const report = await computeReport(index, summaries, { series: opts.series ?? false, budget }, stats);
    if (opts.html) {
      const { renderHtml } = await import('../analyze/html-report.js');
      const chartJs = await fs.readFile(
        path.join(path.dirname(fileURLToPath(import.meta.resolve('chart.js'))), 'chart.umd.min.js'),
        'utf8',
      );
      const tmp = `${opts.html}.tmp-${process.pid}`;
      await fs.writeFile(tmp, renderHtml(report, chartJs));
      await fs.rename(tmp, opts.html);
    }
    return report;
  } finally {
    progress.done();
    await index.close();
  }
}

async function indexImage(
  index: ParquetIndex,
  cache: LayerCache,
  ref: string,
  opts: AnalyzeOptions,
  progress: Progress,
  stats: AnalyzeReport['index'],
): Promise<ImageSummary> {
  const source = await openSource(ref, opts.transport);
  try {
    if (source.kind !== 'image')
      throw new RechunkerError('USAGE', `${ref}: a directory has no layers to analyze; analyze an image built from it`);
    progress.phase(`resolving ${ref}`);
    const image = await source.resolve(opts.platform);
    if (index.hasImage(image.manifestDigest)) {
      stats.imagesFromIndex++;
      return { ...(await index.readImage(image.manifestDigest)), name: ref };
    }
    const layers: IndexedLayer[] = [];
    const descs = image.manifest.layers;
    for (let i = 0; i < descs.length; i++) {
      const desc = descs[i]!;
      const diffId = image.config.rootfs.diff_ids[i]!;
      const kept = cache.get(desc.digest);
      if (kept || index.hasLayer(desc.digest)) {
        layers.push(kept ?? (await index.readLayer(desc.digest)));
        stats.layersFromIndex++;
        continue;
      }
      layers.push(
        await indexLayer(
          index,
          source,
          desc,
          diffId,
          `${ref}: layer ${i + 1}/${descs.length} (${shortDigest(desc.digest)})`,
          progress,
        ),
      );
      stats.layersIndexed++;
    }
    progress.phase(`summarising ${ref}`);
    const { summarizeImage } = await import('../analyze/image-summary.js');
    const { summary, files } = await summarizeImage(ref, image.manifestDigest, layers);
    for (const l of layers) cache.put(l);
    await index.writeImage(summary, files);
    return summary;
  } finally {
    await source.close();
  }
}

async function indexLayer(
  index: ParquetIndex,
  source: ImageSource,
  desc: Descriptor,
  diffId: string,
  where: string,
  progress: Progress,
): Promise<IndexedLayer> {
  const { indexLayerEntries } = await import('../analyze/index-layer.js');
  progress.phase(`indexing ${where}`);
  let read = 0;
  try {
    const onBytes = (n: number) => {
      read += n;
      progress.advance(read, desc.size, 'bytes');
    };
    let tarBytes = 0;
    const entries = await readLayerEntries(source, desc, diffId, where, indexLayerEntries, onBytes, (n) => {
      tarBytes = n;
    });
    const facts = {
      layerDigest: desc.digest,
      diffId,
      compressedSize: desc.size,
      mediaType: desc.mediaType,
      contentBytes: entries.reduce((s, e) => s + (e.type === 'file' ? e.size : 0), 0),
      tarBytes,
      entries: entries.length,
    };
    await index.writeLayer(facts, entries);
    return { facts, entries };
  } catch (e) {
    throw withContext(e, where);
  }
}
