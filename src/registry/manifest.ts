import { RechunkerError } from '../errors.js';
import { MediaType, type Descriptor, type ImageConfig, type Index, type Manifest } from '../oci/types.js';

/**
 * Parsing what a registry sends: an image manifest (OCI or Docker schema2) or an index (OCI index
 * or Docker manifest list). Only the fields rechunker relies on are checked; the bytes are kept
 * by the caller, never re-serialised.
 */
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const INDEX_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];
const MANIFEST_TYPES: readonly string[] = [MediaType.OciManifest, MediaType.DockerManifest];

export type RegistryManifest = { kind: 'index'; index: Index } | { kind: 'manifest'; manifest: Manifest };

function bad(where: string, why: string): never {
  throw new RechunkerError('BAD_MANIFEST', `${where}: ${why}`);
}

function object(bytes: Buffer, where: string): Record<string, unknown> {
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
  if (typeof d !== 'object' || d === null) bad(where, 'a descriptor is not an object');
  const desc = d as Record<string, unknown>;
  if (typeof desc.mediaType !== 'string') bad(where, 'a descriptor has no mediaType');
  if (typeof desc.digest !== 'string' || !DIGEST.test(desc.digest)) bad(where, `invalid or unsupported digest "${String(desc.digest).slice(0, 80)}" (only sha256 is supported)`);
  if (typeof desc.size !== 'number' || !Number.isSafeInteger(desc.size) || desc.size < 0) bad(where, `descriptor ${desc.digest} has an invalid size`);
  return desc as unknown as Descriptor;
}

/** `mediaType`: what the response's Content-Type (or the parent descriptor) said. */
export function parseRegistryManifest(bytes: Buffer, mediaType: string | undefined, where: string): RegistryManifest {
  const obj = object(bytes, where);
  if (obj.schemaVersion === 1) bad(where, 'Docker schema1 manifests are not supported (push the image again with a current tool)');
  if (obj.schemaVersion !== 2) bad(where, `unsupported schemaVersion ${String(obj.schemaVersion)}`);
  const declared = typeof obj.mediaType === 'string' ? obj.mediaType : mediaType;
  const isIndex = declared !== undefined && INDEX_TYPES.includes(declared) ? true : declared !== undefined && MANIFEST_TYPES.includes(declared) ? false : Array.isArray(obj.manifests) && obj.config === undefined;
  if (isIndex) {
    if (!Array.isArray(obj.manifests)) bad(where, 'an index without a manifests list');
    obj.manifests.forEach((m, i) => checkDescriptor(m, `${where} manifests[${i}]`));
    return { kind: 'index', index: obj as unknown as Index };
  }
  if (declared !== undefined && !MANIFEST_TYPES.includes(declared) && declared !== 'application/json') bad(where, `unsupported media type ${declared}`);
  checkDescriptor(obj.config, `${where} config`);
  if (!Array.isArray(obj.layers)) bad(where, 'a manifest without a layers list');
  obj.layers.forEach((l, i) => checkDescriptor(l, `${where} layers[${i}]`));
  return { kind: 'manifest', manifest: obj as unknown as Manifest };
}

export function parseImageConfig(bytes: Buffer, layerCount: number, where: string): ImageConfig {
  const obj = object(bytes, where);
  const rootfs = obj.rootfs as { diff_ids?: unknown } | undefined;
  if (!rootfs || !Array.isArray(rootfs.diff_ids)) bad(where, 'a config without rootfs.diff_ids');
  rootfs.diff_ids.forEach((d, i) => {
    if (typeof d !== 'string' || !DIGEST.test(d)) bad(where, `rootfs.diff_ids[${i}] is not a sha256 digest`);
  });
  if (rootfs.diff_ids.length !== layerCount) bad(where, `the config lists ${rootfs.diff_ids.length} diff_ids for ${layerCount} layers`);
  if (typeof obj.os !== 'string' || typeof obj.architecture !== 'string') bad(where, 'a config without os/architecture');
  return obj as unknown as ImageConfig;
}
