import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import os from 'node:os';
import { assembleImage } from '../assemble/assemble-image.js';
import { dirsChangedByMtime, layerEntries } from '../assemble/output-entries.js';
import { compressionKey, reuseCandidates } from '../assemble/layer-reuse.js';
import { buildLayer, type BuiltLayer } from '../assemble/write-layer.js';
import { ContentStore } from '../graph/content-store.js';
import { findPriorImage, priorBlobsTrusted, readPriorImage, type PriorImage } from './prior-plan.js';
import { COMPONENTS_ANNOTATION, ENTRIES_ANNOTATION, planLabelValue } from '../plan/recorded-plan.js';
import {
  DEFAULT_PARENT_DIR_MODE,
  delegateWarning,
  DIR_MTIME_CLAMP,
  dirMtimeCost,
  parentDirStrategy,
  shadowedDirs,
} from '../parents/index.js';
import { openSink, openSource, type TransportOptions } from './open-reference.js';
import { accessFor, asDestination } from './registry-access.js';
import { BlobTally, tallySink } from './blob-tally.js';
import type { ImageSink } from '../oci/transport.js';
import { mapLimit } from '../util/concurrency.js';
import { makeWorkDir, removeWorkDir } from '../util/work-dir.js';
import { checkDestination, checkWorkRoom } from './check-destination.js';
import { finishImage, hostXattrRule, stripsHostXattrs, treeEditor, type EditReport } from './image-edits.js';
import { hasHostXattrs } from '../graph/strip-xattrs.js';
import { readAndPlan } from './read-and-plan.js';
import { type BaseImage, keptLayers, openBase, putKeptLayers } from './keep-base.js';
import { largestFirst, outputLayers, sizeFigures } from './output-layers.js';
import { silentProgress } from '../progress.js';
import type { RechunkOptions, RechunkResult } from './rechunk-types.js';
import { alreadyBuilt, inputKey, unchangedResult } from './unchanged-input.js';

/**
 * Layers built at once by default: two per core. Each layer's blocks compress on libuv's thread
 * pool (block-gzip.ts) while this thread makes its tar and hashes it; with more layers going, one
 * layer's turn on this thread is another's time on the pool. Corpus `updated`, writing: one zlib
 * stream per layer 4.3-5.0 s with 2 layers at once, 3.8-4.2 s with 4; in blocks, 4 layers at once
 * were 0.5-0.65 s faster than 2 over the whole build (two runs each).
 */
const LAYER_JOBS = 2 * Math.max(1, os.availableParallelism());

export async function rechunk(opts: RechunkOptions): Promise<RechunkResult> {
  const progress = opts.progress ?? silentProgress;
  const strategy = parentDirStrategy(opts.parentDirs ?? DEFAULT_PARENT_DIR_MODE);
  // Blob transfers report on the same progress line as the rest of the run.
  const transport: TransportOptions = { ...opts.transport, progress };
  // The destination first: a refusal must come before minutes of work, with nothing written.
  progress.phase(`checking ${opts.destination}`);
  await checkDestination(opts.destination, transport);
  const source = await openSource(opts.source, transport);
  try {
    await checkWorkRoom(source, opts.platform, opts.workDir);
  } catch (e) {
    await source.close();
    throw e;
  }
  const tally = new BlobTally();
  // The kept layers are the base's blobs: a registry mounts them from the base's repository when it can.
  const sinkAccess = opts.keepBase ? { ...transport, mountFrom: opts.keepBase } : transport;
  const sink = tallySink(await openSink(opts.destination, sinkAccess), tally);
  const work = await makeWorkDir(opts.workDir, 'rechunker-');
  const store = await ContentStore.create(work);
  let base: BaseImage | undefined;
  try {
    if (opts.keepBase)
      base = await openBase(opts.keepBase, opts.platform, accessFor(opts.keepBase, opts.destination, opts.transport));
    const { priorImage, priorWarning } = await choosePrior(opts);
    const prior = priorImage?.plan;
    const priorRef = priorImage?.ref;
    progress.phase(`resolving ${source.name}`);
    const resolved = await source.resolve(opts.platform);
    // Only an image is named by its digest; a root filesystem is read to know what it holds.
    const facts =
      source.kind === 'image' && opts.toolVersion !== undefined
        ? {
            toolVersion: opts.toolVersion,
            image: resolved,
            platform: opts.platform,
            ...(base ? { base: base.resolved } : {}),
            options: outputOptions(opts, strategy.mode),
          }
        : undefined;
    const strips = stripsHostXattrs(opts.source, opts.edits ?? {});
    const keys = facts ? [inputKey(facts, 'none'), inputKey(facts, strips ? 'stripped' : 'kept')] : [];
    if (priorImage?.ref === opts.destination && (await alreadyBuilt(priorImage, keys, sink))) {
      return unchangedResult(opts, priorImage, base, tally);
    }
    const editReport: EditReport = { pruned: 0, hostXattrFiles: 0, notes: [] };
    const editTree = treeEditor(opts.source, opts.edits ?? {}, editReport);
    const planned = await readAndPlan(source, opts.platform, store, progress, {
      image: resolved,
      maxLayers: opts.maxLayers,
      extraLayers: strategy.extraLayers,
      editTree,
      ...(base ? { base: { image: base, compare: hostXattrRule(opts.source, opts.edits ?? {}) } } : {}),
      ...(prior ? { prior } : {}),
      ...(opts.packer ? { packer: opts.packer } : {}),
    });
    const { graph, warnings, plan, planned: components, above } = planned;
    const warn = (message: string) => {
      progress.warn(message);
      warnings.push(message);
    };
    if (priorWarning) warn(priorWarning);
    const finished = finishImage(planned.image, graph, opts.edits ?? {}, opts.sourceDateEpoch, editReport);
    for (const w of finished.warnings) warn(w);
    for (const n of editReport.notes) progress.note(n);
    const image = finished.image;
    const hostXattrs = strips ? editReport.hostXattrFiles > 0 : hasHostXattrs(graph);
    const input = facts && inputKey(facts, hostXattrs ? (strips ? 'stripped' : 'kept') : 'none');
    if (priorRef && !opts.prior)
      progress.note(`prior plan taken from ${priorRef} (the image already there; --no-prior to ignore it)`);

    const { layers, dirs, impliedDirs, files } = outputLayers(graph, plan, components, strategy, above?.delta);
    const kept = base && above ? keptLayers(base, above.keptLayers) : { layers: [], history: [] };
    // A directory the source itself leaves implied is shown with defaults by its own layers too.
    const shadowed = shadowedDirs(layers).filter((d) => !impliedDirs.has(d)).length;
    if (shadowed > 0) warn(delegateWarning(shadowed));
    const dirMtime = opts.dirMtime === 'clamp' ? DIR_MTIME_CLAMP : undefined;
    if (dirMtime !== undefined) warn(dirMtimeCost(dirsChangedByMtime(graph, dirMtime), dirs.length, strategy.mode));

    const dirCount = dirs.length - (graph.root.implied ? 0 : 1);
    progress.phase(`writing ${layers.length} layers`);
    const compression = compressionKey(opts.compression, opts.compressionLevel);
    const trusted = priorImage !== undefined && priorBlobsTrusted(priorImage.ref, opts.destination);
    if (priorImage && !trusted)
      progress.note(
        `every layer is written anew: blobs are reused only from a prior in the destination's own storage, and ${priorImage.ref} is not`,
      );
    // A layer the previous build already wrote, byte for byte, is taken from the destination as it
    // is; only a blob the destination holds counts, so nothing is fetched to avoid compressing.
    const candidates = reuseCandidates(
      layers,
      {
        priorLayers: trusted ? priorImage.layers : [],
        ...(prior?.compression ? { priorCompression: prior.compression } : {}),
        ...(prior?.components ? { priorRecords: prior.components } : {}),
        fingerprints: new Map(Object.entries(plan.components).map(([name, r]) => [name, r.fingerprint])),
        compression: opts.compression,
        ...(opts.compressionLevel !== undefined ? { level: opts.compressionLevel } : {}),
      },
      (p) => sink.hasBlob(p.descriptor),
    );
    const entryOptions = { clampMtime: opts.sourceDateEpoch, ...(dirMtime !== undefined ? { dirMtime } : {}) };
    let written = 0;
    const jobs = opts.jobs ?? LAYER_JOBS;
    const built = await mapLimit(
      layers,
      jobs,
      async (layer, i) => {
        const candidate = candidates[i];
        const b = await buildLayer({
          items: () => layerEntries(graph, store, layer, entryOptions),
          workDir: work,
          compression: opts.compression,
          ...(opts.compressionLevel !== undefined ? { level: opts.compressionLevel } : {}),
          ...(candidate ? { reuse: candidate } : {}),
        });
        progress.advance(++written, layers.length);
        return b;
      },
      largestFirst(layers, components),
    );

    progress.phase(`writing ${opts.destination}`);
    const assembled = assembleImage(
      image,
      [
        ...kept.layers.map((l) => ({ ...l, components: [] })),
        ...built.map((b, i) => ({
          descriptor: {
            mediaType: b.mediaType,
            digest: b.digest,
            size: b.size,
            annotations: { [COMPONENTS_ANNOTATION]: layers[i]!.components.join(','), [ENTRIES_ANNOTATION]: b.entries },
          },
          diffId: b.diffId,
          components: layers[i]!.components,
        })),
      ],
      planLabelValue(plan, {
        parentDirs: strategy.mode,
        compression,
        ...(input ? { input } : {}),
        files,
        directories: dirCount,
      }),
      strategy.mode,
      { count: kept.layers.length, history: kept.history },
    );
    if (base)
      await putKeptLayers(
        sink,
        base,
        kept.layers.map((l) => l.descriptor),
        tally,
      );
    for (const b of built) {
      // A reused layer is not put again: the destination has it, and the summary says so.
      if (b.reused) tally.record(b.reused, 'skipped');
      else await putLayer(sink, b);
    }
    await sink.putBlob(assembled.config, async () => Readable.from([assembled.configBytes], { objectMode: false }));
    await sink.putManifest(assembled.manifestBytes, assembled.manifest.mediaType, assembled.manifest.digest);

    return {
      source: opts.source,
      destination: opts.destination,
      manifestDigest: assembled.manifest.digest,
      layers: [
        ...kept.layers.map((l) => ({
          digest: l.descriptor.digest,
          size: l.descriptor.size,
          uncompressedSize: null,
          components: [],
          reused: false,
          kept: true,
        })),
        ...built.map((b, i) => ({
          digest: b.digest,
          size: b.size,
          uncompressedSize: b.uncompressedSize,
          components: layers[i]!.components,
          reused: b.reused !== undefined,
          kept: false,
        })),
      ],
      components: components.length,
      files,
      directories: dirCount,
      ...sizeFigures([...kept.layers.map((l) => l.descriptor.size), ...built.map((b) => b.size)]),
      warnings,
      prior: priorRef ?? null,
      keptBase: base && above ? { ref: base.ref, layers: above.keptLayers } : null,
      plan: { expectedCost: plan.expectedCost, expectedLowerBound: plan.expectedLowerBound, notes: plan.notes },
      layersReused: [...kept.layers.map((l) => l.descriptor), ...built].filter(
        (b) => tally.outcome(b.digest) !== 'uploaded',
      ).length,
      transfer: tally.summary(),
      edits: editReport,
      unchanged: false,
    };
  } finally {
    progress.done();
    await store.close().catch(() => {});
    await removeWorkDir(work);
    await source.close();
    await base?.source.close();
    await sink.close();
  }
}

/** The options that change what a build writes, for its input key. */
function outputOptions(opts: RechunkOptions, parentDirs: string): Record<string, unknown> {
  return {
    maxLayers: opts.maxLayers,
    compression: compressionKey(opts.compression, opts.compressionLevel),
    sourceDateEpoch: opts.sourceDateEpoch ?? null,
    parentDirs,
    dirMtime: opts.dirMtime ?? null,
    packer: opts.packer ?? null,
    edits: opts.edits ?? {},
  };
}

/** --prior when given; else, unless --no-prior, the rechunked image already at DESTINATION. */
async function choosePrior(opts: RechunkOptions): Promise<{ priorImage?: PriorImage; priorWarning?: string }> {
  if (opts.prior)
    return {
      priorImage: await readPriorImage(
        opts.prior,
        opts.platform,
        accessFor(opts.prior, opts.destination, opts.transport),
      ),
    };
  if (opts.noPrior) return {};
  const found = await findPriorImage(opts.destination, opts.platform, asDestination(opts.transport));
  return found.image ? { priorImage: found.image } : found.warning ? { priorWarning: found.warning } : {};
}

async function putLayer(sink: ImageSink, b: BuiltLayer): Promise<void> {
  const file = b.file;
  if (file === undefined) throw new Error(`internal: layer ${b.digest} has no file to put`);
  const desc = { mediaType: b.mediaType, digest: b.digest, size: b.size };
  if (sink.adoptFile) await sink.adoptFile(file, desc);
  else await sink.putBlob(desc, async () => createReadStream(file));
}
