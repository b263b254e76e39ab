import { describeBytes } from '../oci/digest.js';
import { MediaType, type Descriptor, type HistoryEntry, type ImageConfig, type Manifest } from '../oci/types.js';
import type { ResolvedImage } from '../oci/transport.js';
import { PARENT_DIRS_ANNOTATION, PLAN_LABEL } from '../plan/recorded-plan.js';

export interface AssembledLayer {
  descriptor: Descriptor;
  diffId: string;
  components: string[];
}

export interface AssembledImage {
  configBytes: Buffer;
  config: Descriptor;
  manifestBytes: Buffer;
  manifest: Descriptor;
}

const HISTORY_NAMES = 6;

function describe(components: string[]): string {
  const shown = components.slice(0, HISTORY_NAMES).join(' ');
  const more = components.length > HISTORY_NAMES ? ` (+${components.length - HISTORY_NAMES} more)` : '';
  return `rechunker: ${shown}${more}`;
}

/**
 * The new config keeps everything the input said about how to run the image (Env, Cmd, User,
 * Labels...) and replaces the filesystem description: new diff_ids, one history entry per layer,
 * and the plan in a label (plan/recorded-plan.ts).
 */
export function assembleImage(
  input: ResolvedImage,
  layers: AssembledLayer[],
  planLabel: string,
  parentDirMode: string,
  /** --keep-base: the first `count` layers are the base's, and `history` is the base's for them. */
  kept: { count: number; history: HistoryEntry[] } = { count: 0, history: [] },
): AssembledImage {
  const src = input.config;
  const history: HistoryEntry[] = kept.history.concat(
    layers.slice(kept.count).map((l) => ({
      ...(src.created ? { created: src.created } : {}),
      created_by: describe(l.components),
      comment: 'rechunked layer',
    })),
  );
  const config: ImageConfig = {
    ...src,
    config: { ...src.config, Labels: { ...src.config?.Labels, [PLAN_LABEL]: planLabel } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history,
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc = describeBytes(MediaType.OciConfig, configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: configDesc,
    layers: layers.map((l) => l.descriptor),
    annotations: { ...input.manifest.annotations, [PARENT_DIRS_ANNOTATION]: parentDirMode },
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    configBytes,
    config: configDesc,
    manifestBytes,
    manifest: describeBytes(MediaType.OciManifest, manifestBytes),
  };
}
