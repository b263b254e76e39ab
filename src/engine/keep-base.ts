import type { Component } from '../components/types.js';
import { RechunkerError, withContext } from '../errors.js';
import { type FileGraph, type Inode, isDir } from '../graph/file-graph.js';
import type { TreeDelta } from '../graph/tree-snapshot.js';
import type { ImageSink, ImageSource, ResolvedImage } from '../oci/transport.js';
import type { Descriptor, HistoryEntry, Platform } from '../oci/types.js';
import type { BlobTally } from './blob-tally.js';
import { openSource, type TransportOptions } from './open-reference.js';

/**
 * --keep-base REF: the layers SOURCE shares with REF stay exactly as REF has them (same blobs,
 * so they stay shared with every image built on that base); only what SOURCE changes above them
 * is rechunked. This file holds the engine's side of it: opening REF, finding the shared layers,
 * restricting the components to the changed files, and putting REF's blobs.
 */
export interface BaseImage {
  ref: string;
  source: ImageSource;
  resolved: ResolvedImage;
}

export async function openBase(ref: string, platform: Platform, transport?: TransportOptions): Promise<BaseImage> {
  const source = await openSource(ref, transport).catch((e: unknown) => {
    throw withContext(e, '--keep-base');
  });
  if (source.kind === 'tree') {
    await source.close();
    throw new RechunkerError('USAGE', `--keep-base ${ref}: a base must be an image with layers, not a root filesystem`);
  }
  try {
    return { ref, source, resolved: await source.resolve(platform) };
  } catch (e) {
    await source.close();
    throw withContext(e, '--keep-base');
  }
}

/** How many bottom layers SOURCE has in common with the base (by diff_id); at least one. */
export function sharedBaseLayers(sourceName: string, image: ResolvedImage, base: BaseImage): number {
  const ours = image.config.rootfs.diff_ids;
  const theirs = base.resolved.config.rootfs.diff_ids;
  let n = 0;
  while (n < ours.length && n < theirs.length && ours[n] === theirs[n]) n++;
  if (n === 0)
    throw new RechunkerError(
      'USAGE',
      `--keep-base ${base.ref}: ${sourceName} does not start with its layers (first diff_id ${short(ours[0])}, the base's ${short(theirs[0])})`,
    );
  return n;
}

/** The bottom `count` layers of the base as the output lists them, with their history entries. */
export function keptLayers(
  base: BaseImage,
  count: number,
): { layers: Array<{ descriptor: Descriptor; diffId: string }>; history: HistoryEntry[] } {
  const { manifest, config } = base.resolved;
  const layers = manifest.layers
    .slice(0, count)
    .map((descriptor, i) => ({ descriptor, diffId: config.rootfs.diff_ids[i]! }));
  // The base's own history up to its last kept layer (empty_layer steps included), when it has
  // one entry per layer; otherwise one entry per kept layer saying where it came from.
  const own = config.history ?? [];
  let seen = 0;
  let end = 0;
  while (end < own.length && seen < count) if (!own[end++]!.empty_layer) seen++;
  const history =
    seen === count
      ? own.slice(0, end)
      : layers.map(() => ({ created_by: `rechunker: kept from ${base.ref}`, comment: 'base layer' }));
  return { layers, history };
}

/**
 * The components restricted to the files the delta names: the planner sees only what changed
 * above the base. A component left with no changed file is gone.
 */
export function componentsAboveBase(components: readonly Component[], delta: TreeDelta, graph: FileGraph): Component[] {
  return components.flatMap((c) => {
    const paths = c.paths.filter((p) => delta.files.has(p));
    if (paths.length === 0) return [];
    return [{ ...c, paths, size: fileBytes(graph, paths) }];
  });
}

function fileBytes(graph: FileGraph, paths: readonly string[]): number {
  const seen = new Set<Inode>();
  let bytes = 0;
  for (const p of paths) {
    const node = graph.get(p);
    if (!node || isDir(node) || seen.has(node.inode)) continue;
    seen.add(node.inode);
    bytes += node.inode.size;
  }
  return bytes;
}

/** Put each kept layer the destination lacks, read from the base; the tally learns of every one. */
export async function putKeptLayers(
  sink: ImageSink,
  base: BaseImage,
  descriptors: readonly Descriptor[],
  tally: BlobTally,
): Promise<void> {
  for (const d of descriptors) {
    const desc = { mediaType: d.mediaType, digest: d.digest, size: d.size };
    if (await sink.hasBlob(desc)) tally.record(desc, 'skipped');
    else await sink.putBlob(desc, () => base.source.openBlob(desc));
  }
}

function short(diffId: string | undefined): string {
  return diffId === undefined ? '(none)' : diffId.replace(/^sha256:/, '').slice(0, 12);
}
