import path from 'node:path';
import type { PriorLayer } from '../assemble/layer-reuse.js';
import { RechunkerError } from '../errors.js';
import type { ResolvedImage } from '../oci/transport.js';
import type { Platform } from '../oci/types.js';
import type { PriorPlan } from '../plan/plan-types.js';
import { COMPONENTS_ANNOTATION, ENTRIES_ANNOTATION, priorFromImage } from '../plan/recorded-plan.js';
import { parseReference } from '../ref/image-reference.js';
import { parseDockerReference } from '../registry/docker-reference.js';
import { openSource, type TransportOptions } from './open-reference.js';

/** A previous rechunked build: the plan it recorded, and its layers as its image describes them. */
export interface PriorImage {
  ref: string;
  plan: PriorPlan;
  layers: PriorLayer[];
  image: ResolvedImage;
}

/** The rechunked image at `ref` (see plan/recorded-plan.ts). */
export async function readPriorImage(
  ref: string,
  platform: Platform,
  transport?: TransportOptions,
): Promise<PriorImage> {
  const source = await openSource(ref, transport);
  try {
    const image = await source.resolve(platform);
    const { config, manifest } = image;
    const plan = priorFromImage(ref, config, manifest);
    const layers = manifest.layers.map((descriptor, i) => {
      const entries = descriptor.annotations?.[ENTRIES_ANNOTATION];
      return {
        descriptor,
        diffId: config.rootfs.diff_ids[i]!,
        components: (descriptor.annotations?.[COMPONENTS_ANNOTATION] ?? '').split(',').filter((n) => n !== ''),
        ...(entries ? { entries } : {}),
      };
    });
    return { ref, plan, layers, image };
  } finally {
    await source.close();
  }
}

export async function readPriorPlan(ref: string, platform: Platform, transport?: TransportOptions): Promise<PriorPlan> {
  return (await readPriorImage(ref, platform, transport)).plan;
}

/**
 * The prior for a build that names none: the image DESTINATION already holds, when it is a
 * rechunked one. A missing tag, layout or label is silently no prior; another failure is a reason
 * to go without one, returned so the caller can say so.
 */
export async function findPriorImage(
  ref: string,
  platform: Platform,
  transport?: TransportOptions,
): Promise<{ image?: PriorImage; warning?: string }> {
  try {
    return { image: await readPriorImage(ref, platform, transport) };
  } catch (err) {
    // Nothing there, or a destination the write itself will report as unusable (or refusing us).
    if (err instanceof RechunkerError && (err.code === 'NOT_FOUND' || err.code === 'IO' || err.code === 'AUTH'))
      return {};
    return { warning: `${ref}: not used as the prior plan (${(err as Error).message})` };
  }
}

/**
 * Where an image's blobs live: the layout directory, the archive, the registry repository or the
 * image store, whatever the tag or digest.
 */
function storageOf(ref: string): string | undefined {
  const r = parseReference(ref);
  switch (r.transport) {
    case 'oci':
      return `oci:${path.resolve(r.dir)}`;
    case 'oci-archive':
      return `oci-archive:${path.resolve(r.file)}`;
    case 'docker': {
      const d = parseDockerReference(r.rest);
      return `docker://${d.registry}/${d.repository}`;
    }
    case 'containers-storage':
      return `containers-storage:${r.store?.root ?? ''}`;
    case 'rootfs':
      return undefined;
  }
}

/**
 * Can the prior's word be taken on which blob holds which tar? A reused layer is the prior
 * manifest's descriptor with the diff_id its config gives, unread, so a prior from anywhere else
 * could make the output name any blob the destination holds, with content the source does not
 * have. A prior in the destination's own storage is as trustworthy as the destination, which the
 * build writes anyway; one from elsewhere guides the plan only, and every layer is written anew.
 */
export function priorBlobsTrusted(priorRef: string, destination: string): boolean {
  const at = storageOf(priorRef);
  return at !== undefined && at === storageOf(destination);
}
