import { Args, Flags } from '@oclif/core';
import type { AnalyzeReport } from '../src/analyze/analyze-report.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { platformFlag, platformOf, transportFlags, transportOptions } from '../src/cli/flags.js';
import { keepHeapNearLiveSize } from '../src/analyze/heap-policy.js';
import type { IndexOnlyResult } from '../src/engine/analyze-images.js';
import { formatBytes } from '../src/util/format-bytes.js';

export default class Analyze extends BaseCommand {
  static override summary = 'How much a set of images shares, what an update costs, and what rechunking would save';

  static override description =
    `Indexes every layer once (one Parquet file per layer digest under --index DIR), then reports
per image (layers, bytes, files, bytes overwritten or deleted by upper layers, duplicate contents,
bytes per component), across images (file-level against layer-level dedup, the most duplicated
paths and file types, files grouped by the images holding them) and, with --series, per update
step: blob-reuse and chain-reuse downloads, the lower bound (changed files gzip'd alone) and what
the image rechunked with the previous one as prior would download. A second run over the same
images reads only the index. Workers: --only-index into one shared DIR, then one run without
references reads every image the index holds.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> oci:./images:v1 oci:./images:v2 oci:./images:v3 --series',
    '<%= config.bin %> <%= command.id %> docker://quay.io/fedora/fedora-bootc:41 --index /srv/idx --only-index',
    '<%= config.bin %> <%= command.id %> --index /srv/idx --json --html report.html',
  ];

  static override strict = false;

  static override args = {
    refs: Args.string({ description: 'images to analyze, in series order (none: every image in the index)' }),
  };

  static override flags = {
    series: Flags.boolean({
      description: 'the images are versions in this order: report each update step',
      default: false,
    }),
    html: Flags.string({ description: 'also write a self-contained HTML page with charts', helpValue: 'FILE' }),
    index: Flags.string({
      description: 'index directory (default: $XDG_CACHE_HOME/rechunker/analyze)',
      helpValue: 'DIR',
    }),
    'only-index': Flags.boolean({
      description: 'index the images and stop (a worker of a shared index)',
      default: false,
    }),
    'max-layers': Flags.integer({
      description: 'layers of the rechunked image --series compares with',
      default: 64,
      min: 2,
      max: 500,
    }),
    platform: platformFlag,
    ...transportFlags,
  };

  async run(): Promise<AnalyzeReport | IndexOnlyResult> {
    const { argv, flags } = await this.parse(Analyze);
    keepHeapNearLiveSize();
    // The engine loads with the command's run, not with its help or the manifest.
    const { analyzeImages } = await import('../src/engine/analyze-images.js');
    const result = await analyzeImages({
      refs: argv as string[],
      platform: platformOf(flags.platform),
      ...(flags.index !== undefined ? { indexDir: flags.index } : {}),
      onlyIndex: flags['only-index'],
      series: flags.series,
      ...(flags.html !== undefined ? { html: flags.html } : {}),
      maxLayers: flags['max-layers'],
      progress: this.progress(flags.quiet),
      transport: transportOptions(flags),
    });
    const ix = result.index;
    if (!('dedup' in result)) {
      this.log(
        `indexed ${ix.layersIndexed} layers (${ix.layersFromIndex} already there) of ${result.images.length} images into ${ix.dir}`,
      );
      return result;
    }
    const b = formatBytes;
    this.log('image                          layers  compressed  files   file bytes  duplicate   wasted');
    for (const i of result.images) {
      this.log(
        [
          i.name.slice(-30).padEnd(30),
          String(i.layers.length).padStart(6),
          ` ${b(i.compressedBytes).padStart(10)}`,
          ` ${String(i.files).padStart(6)}`,
          ` ${b(i.fileBytes).padStart(10)}`,
          ` ${b(i.duplicateBytes).padStart(9)}`,
          ` ${b(i.wastedBytes).padStart(8)}`,
        ].join(' '),
      );
    }
    const d = result.dedup;
    this.log(
      `files:  ${b(d.files.totalBytes)} in all, ${b(d.files.distinctBytes)} distinct ` +
        `(${d.files.ratio}x, ${d.files.distinctCount} of ${d.files.totalCount} files)`,
    );
    this.log(
      `layers: ${b(d.layers.totalBytes)} in all, ${b(d.layers.distinctBytes)} distinct ` +
        `(${d.layers.ratio}x, ${d.layers.distinctCount} of ${d.layers.totalCount} layers)`,
    );
    this.log(
      `perfect layering: ${result.relayering.layerCount} shared layers, ${b(result.relayering.storedBytes)} stored`,
    );
    for (const p of result.topDuplicatedPaths.slice(0, 5))
      this.log(`  ${b(p.duplicatedBytes).padStart(9)}  /${p.path} (${p.copies} copies)`);
    for (const s of result.steps ?? []) {
      this.log(
        `${s.from} -> ${s.to}: blob ${b(s.blobDownload)}, chain ${b(s.chainDownload)}, rechunked ${b(s.rechunkedDownload)}, lower bound ${b(s.lowerBound)}`,
      );
    }
    this.log(`index ${ix.dir}: ${ix.layersIndexed} layers indexed now, ${ix.layersFromIndex} read from it`);
    return result;
  }
}
