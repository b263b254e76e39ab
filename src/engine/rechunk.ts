import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { assembleImage, COMPONENTS_ANNOTATION } from '../build/assemble-image.js';
import { layerEntries } from '../build/layer-entries.js';
import { writeLayer, type BuiltLayer } from '../build/write-layer.js';
import type { Compression } from '../compress/codec.js';
import { detectComponents } from '../components/detect.js';
import type { Component } from '../components/types.js';
import { ContentStore } from '../graph/content-store.js';
import { FileGraph, isDir } from '../graph/file-graph.js';
import { GraphTreeView } from '../graph/graph-tree-view.js';
import { loadImage } from '../graph/load-image.js';
import type { Platform } from '../oci/types.js';
import { packComponents } from '../plan/pack.js';
import type { Plan } from '../plan/plan.js';
import type { LayerPaths, ParentDirStrategy } from '../parents/strategy.js';
import { topLayer } from '../parents/top-layer.js';
import { openSink, openSource } from '../ref/open.js';
import type { ImageSink } from '../ref/transport.js';
import { mapLimit } from '../util/concurrency.js';
import { silentProgress, type Progress } from './progress.js';

export interface RechunkOptions {
  source: string;
  destination: string;
  platform: Platform;
  maxLayers: number;
  compression: Compression;
  compressionLevel?: number;
  sourceDateEpoch?: number;
  workDir?: string;
  /** Layers built at once: compression runs on libuv's thread pool, one stream per core. */
  jobs?: number;
  progress?: Progress;
}

export interface LayerReport {
  digest: string;
  size: number;
  uncompressedSize: number;
  components: string[];
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
}

const VOLATILE_KINDS = new Set(['pkgdb', 'unclaimed']);

export async function rechunk(opts: RechunkOptions): Promise<RechunkResult> {
  const progress = opts.progress ?? silentProgress;
  const strategy: ParentDirStrategy = topLayer;
  const source = await openSource(opts.source);
  const sink = await openSink(opts.destination);
  const work = await fs.mkdtemp(path.join(opts.workDir ?? os.tmpdir(), 'rechunker-'));
  const store = await ContentStore.create(work);
  try {
    progress.phase(`resolving ${opts.source}`);
    const image = await source.resolve(opts.platform);
    const graph = await loadImage(source, image, store, progress);

    progress.phase('finding components');
    const { components, warnings } = await detectComponents(new GraphTreeView(graph, store), {});
    for (const w of warnings) progress.warn(w);

    const budget = opts.maxLayers - strategy.extraLayers;
    const plan = packComponents(components.map((c) => ({ name: c.name, size: c.size, volatile: VOLATILE_KINDS.has(c.kind) })), budget, opts.maxLayers);
    const layers = strategy.place(layerPaths(plan, components), directories(graph));

    progress.phase(`writing ${layers.length} layers`);
    let written = 0;
    const built = await mapLimit(layers, opts.jobs ?? Math.max(2, os.availableParallelism()), async (layer) => {
      const b = await writeLayer(layerEntries(graph, store, layer, { clampMtime: opts.sourceDateEpoch }), work, opts.compression, opts.compressionLevel);
      progress.advance(++written, layers.length);
      return b;
    });

    progress.phase(`writing ${opts.destination}`);
    const assembled = assembleImage(
      image,
      built.map((b, i) => ({
        descriptor: { mediaType: b.mediaType, digest: b.digest, size: b.size, annotations: { [COMPONENTS_ANNOTATION]: layers[i]!.components.join(',') } },
        diffId: b.diffId,
        components: layers[i]!.components,
      })),
      JSON.stringify({ ...plan, parentDirs: strategy.mode }),
      strategy.mode,
    );
    for (const b of built) await putLayer(sink, b);
    await sink.putBlob(assembled.config, async () => Readable.from([assembled.configBytes], { objectMode: false }));
    await sink.putManifest(assembled.manifestBytes, assembled.manifest.mediaType, assembled.manifest.digest);
    progress.done();

    const sizes = built.map((b) => b.size).sort((a, b) => a - b);
    let files = 0;
    let dirs = 0;
    for (const [, node] of graph.walk()) isDir(node) ? dirs++ : files++;
    return {
      source: opts.source,
      destination: opts.destination,
      manifestDigest: assembled.manifest.digest,
      layers: built.map((b, i) => ({ digest: b.digest, size: b.size, uncompressedSize: b.uncompressedSize, components: layers[i]!.components })),
      components: components.length,
      files,
      directories: dirs,
      largestLayer: sizes[sizes.length - 1] ?? 0,
      medianLayer: sizes[Math.floor((sizes.length - 1) / 2)] ?? 0,
      warnings,
    };
  } finally {
    progress.done();
    await store.close().catch(() => {});
    await fs.rm(work, { recursive: true, force: true });
    await source.close();
    await sink.close();
  }
}

function layerPaths(plan: Plan, components: Component[]): LayerPaths[] {
  const byName = new Map(components.map((c) => [c.name, c]));
  return plan.layers.map((l) => ({ files: l.components.flatMap((n) => byName.get(n)!.paths), dirs: [], components: l.components }));
}

function directories(graph: FileGraph): string[] {
  const dirs = graph.root.implied ? [] : ['.'];
  for (const [p, node] of graph.walk()) if (isDir(node)) dirs.push(p);
  return dirs;
}

async function putLayer(sink: ImageSink, b: BuiltLayer): Promise<void> {
  const desc = { mediaType: b.mediaType, digest: b.digest, size: b.size };
  if (sink.adoptFile) await sink.adoptFile(b.file, desc);
  else await sink.putBlob(desc, async () => createReadStream(b.file));
}
