import { RechunkerError } from '../errors.js';
import { checkDigest } from './digest.js';
import { MediaType, type Descriptor, type ImageConfig, type Index, type Manifest } from './types.js';

/**
 * Parsing what a layout or a registry hands out: an image manifest (OCI or Docker schema2) or an
 * index (OCI index or Docker manifest list), and an image config. Only the fields rechunker relies
 * on are checked; the bytes are kept by the caller, never re-serialised.
 */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MediaType.OciManifest, MediaType.DockerManifest];
export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];
/** Declared types that say nothing (a descriptor without one, a registry answering plain JSON): the content decides. */
const UNINFORMATIVE_TYPES: readonly string[] = ['', 'application/json'];

function bad(where: string, why: string): never {
  throw new RechunkerError('BAD_MANIFEST', `${where}: ${why}`);
}

function parseJson(bytes: Buffer, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    bad(where, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(where, 'not a JSON object');
  return value as Record<string, unknown>;
}

export function checkDescriptor(d: unknown, where: string): Descriptor {
  if (typeof d !== 'object' || d === null) bad(where, 'descriptor is not an object');
  const desc = d as Record<string, unknown>;
  if (typeof desc.mediaType !== 'string') bad(where, 'descriptor without mediaType');
  checkDigest(desc.digest, where);
  if (typeof desc.size !== 'number' || !Number.isSafeInteger(desc.size) || desc.size < 0)
    bad(where, `descriptor ${String(desc.digest)} has an invalid size`);
  return desc as unknown as Descriptor;
}

export type ParsedManifest =
  | { kind: 'manifest'; manifest: Manifest; mediaType: string }
  | { kind: 'index'; index: Index; mediaType: string };

/**
 * Parse a manifest or an index. `declared` is the media type its descriptor or HTTP response
 * gave; the document's own `mediaType` wins over it, and when neither says anything useful
 * (absent, '' or 'application/json') the shape decides: a `manifests` list without a `config`
 * is an index.
 */
export function parseManifest(bytes: Buffer, declared: string | undefined, where: string): ParsedManifest {
  const obj = parseJson(bytes, where);
  // Valid input we do not read: UNSUPPORTED, not BAD_MANIFEST.
  if (obj.schemaVersion === 1)
    throw new RechunkerError(
      'UNSUPPORTED',
      `${where}: Docker schema1 manifests are not supported (push the image again with a current tool)`,
    );
  if (obj.schemaVersion !== 2) bad(where, `unsupported schemaVersion ${String(obj.schemaVersion)}`);
  const stated = typeof obj.mediaType === 'string' ? obj.mediaType : declared;
  const looksLikeIndex = Array.isArray(obj.manifests) && !obj.config;
  const known = stated !== undefined && !UNINFORMATIVE_TYPES.includes(stated);
  const mediaType = known ? stated : looksLikeIndex ? MediaType.OciIndex : MediaType.OciManifest;
  if (INDEX_MEDIA_TYPES.includes(mediaType) || looksLikeIndex) {
    if (!Array.isArray(obj.manifests)) bad(where, 'index without a manifests list');
    obj.manifests.forEach((m, i) => checkDescriptor(m, `${where} manifests[${i}]`));
    return { kind: 'index', index: obj as unknown as Index, mediaType };
  }
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) bad(where, `unsupported media type ${mediaType}`);
  checkDescriptor(obj.config, `${where} config`);
  if (!Array.isArray(obj.layers)) bad(where, 'manifest without a layers list');
  obj.layers.forEach((l, i) => checkDescriptor(l, `${where} layers[${i}]`));
  return { kind: 'manifest', manifest: obj as unknown as Manifest, mediaType };
}

export function parseConfig(bytes: Buffer, layerCount: number, where: string): ImageConfig {
  const obj = parseJson(bytes, where);
  const rootfs = obj.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (!rootfs || !Array.isArray(rootfs.diff_ids)) bad(where, 'config without rootfs.diff_ids');
  rootfs.diff_ids.forEach((d, i) => checkDigest(d, `${where} rootfs.diff_ids[${i}]`));
  if (rootfs.diff_ids.length !== layerCount)
    bad(where, `config lists ${rootfs.diff_ids.length} diff_ids for ${layerCount} layers`);
  if (typeof obj.os !== 'string' || typeof obj.architecture !== 'string') bad(where, 'config without os/architecture');
  return obj as unknown as ImageConfig;
}
