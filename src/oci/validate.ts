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
  checkCopiedFields(obj, where);
  return obj as unknown as ImageConfig;
}

// RFC 3339, as Go's time.Time reads it from JSON.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The fields an output config carries over from its input must be what the image spec says they
 * are: Go readers (skopeo, podman, umoci) decode them into typed structs and refuse the whole
 * config otherwise, so an output that kept a label of 5 or an Env entry of 7 could not be run.
 * null is the spec's "not set" to them, and is let through.
 */
function checkCopiedFields(obj: Record<string, unknown>, where: string): void {
  const wrong = (field: string, want: string): never => bad(where, `config field ${field} is not ${want}`);
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const str = (v: unknown, field: string) => {
    if (v !== undefined && v !== null && typeof v !== 'string') wrong(field, 'a string');
  };
  const time = (v: unknown, field: string) => {
    if (v !== undefined && v !== null && (typeof v !== 'string' || !RFC3339.test(v))) wrong(field, 'an RFC 3339 time');
  };
  const strings = (v: unknown, field: string) => {
    if (v === undefined || v === null) return;
    if (!Array.isArray(v)) wrong(field, 'a list of strings');
    (v as unknown[]).forEach((x, i) => typeof x === 'string' || wrong(`${field}[${i}]`, 'a string'));
  };
  const stringMap = (v: unknown, field: string) => {
    if (v === undefined || v === null) return;
    if (!isObject(v)) wrong(field, 'an object of strings');
    for (const [k, x] of Object.entries(v as object)) if (typeof x !== 'string') wrong(`${field}.${k}`, 'a string');
  };
  const objectOf = (v: unknown, field: string) => {
    if (v !== undefined && v !== null && !isObject(v)) wrong(field, 'an object');
  };
  time(obj.created, 'created');
  str(obj.author, 'author');
  const c = obj.config;
  if (c !== undefined && c !== null) {
    if (!isObject(c)) wrong('config', 'an object');
    const cfg = c as Record<string, unknown>;
    for (const f of ['User', 'WorkingDir', 'StopSignal']) str(cfg[f], `config.${f}`);
    for (const f of ['Env', 'Entrypoint', 'Cmd']) strings(cfg[f], `config.${f}`);
    for (const f of ['ExposedPorts', 'Volumes']) objectOf(cfg[f], `config.${f}`);
    stringMap(cfg.Labels, 'config.Labels');
  }
  if (obj.history !== undefined && obj.history !== null) {
    if (!Array.isArray(obj.history)) wrong('history', 'a list');
    (obj.history as unknown[]).forEach((h, i) => {
      if (!isObject(h)) wrong(`history[${i}]`, 'an object');
      const e = h as Record<string, unknown>;
      time(e.created, `history[${i}].created`);
      for (const f of ['created_by', 'author', 'comment']) str(e[f], `history[${i}].${f}`);
      if (e.empty_layer !== undefined && e.empty_layer !== null && typeof e.empty_layer !== 'boolean')
        wrong(`history[${i}].empty_layer`, 'true or false');
    });
  }
}
