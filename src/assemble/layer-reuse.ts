import { layerMediaType, DEFAULT_LEVEL, type Compression } from '../compress/codec.js';
import type { Descriptor } from '../oci/types.js';
import type { ComponentRecord } from '../plan/plan-types.js';

/** A layer of the previous build, as its image describes it. */
export interface PriorLayer {
  descriptor: Descriptor;
  diffId: string;
  components: readonly string[];
  /** Its ENTRIES_ANNOTATION (entries-digest.ts), when the build that wrote it recorded one. */
  entries?: string;
}

/** What the previous build offers one new layer. */
export interface ReuseCandidate {
  prior: PriorLayer;
  /**
   * Every component's fingerprint is the prior's: the tar is expected to be the same. Only asked
   * of a prior layer without an entries digest, whose tar must be hashed to be sure.
   */
  likelySame: boolean;
  /** Can the destination have the prior's blob without compressing (already there, or copied)? */
  usable: () => Promise<boolean>;
}

/** How a build compressed its layers, as the plan label records it ("gzip:6"). */
export function compressionKey(compression: Compression, level?: number): string {
  return `${compression}:${level ?? DEFAULT_LEVEL[compression]}`;
}

export interface ReuseContext {
  priorLayers: readonly PriorLayer[];
  /** compressionKey() of the prior build; without it no blob is known to match ours. */
  priorCompression?: string;
  priorRecords?: Readonly<Record<string, ComponentRecord>>;
  /** This build's fingerprint per component. */
  fingerprints: ReadonlyMap<string, string>;
  compression: Compression;
  level?: number;
}

/**
 * For each new layer (by its components), the prior layer that held exactly the same components
 * and was compressed the same way, if any. Pure: whether its tar is ours is found when the layer is built.
 */
export function reuseCandidates(
  layers: readonly { components: readonly string[] }[],
  ctx: ReuseContext,
  usable: (prior: PriorLayer) => Promise<boolean>,
): Array<ReuseCandidate | undefined> {
  if (ctx.priorCompression !== compressionKey(ctx.compression, ctx.level)) return layers.map(() => undefined);
  const mediaType = layerMediaType(ctx.compression);
  const byComponents = new Map<string, PriorLayer>();
  for (const l of ctx.priorLayers)
    if (l.descriptor.mediaType === mediaType) byComponents.set(l.components.join(','), l);
  return layers.map((layer) => {
    const prior = byComponents.get(layer.components.join(','));
    if (!prior) return undefined;
    const likelySame = layer.components.every((c) => {
      const fp = ctx.fingerprints.get(c);
      return fp !== undefined && fp !== '' && ctx.priorRecords?.[c]?.fingerprint === fp;
    });
    return { prior, likelySame, usable: () => usable(prior) };
  });
}
