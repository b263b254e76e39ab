import { RechunkerError } from '../errors.js';
import type { ResolvedImage } from '../oci/transport.js';
import type { ImageConfig } from '../oci/types.js';

/**
 * What the user changes in the output image's config and manifest, with chunkah's flags and
 * semantics (chunkah's cmd_build.rs): --config / --config-str, --label, --annotation,
 * SOURCE_DATE_EPOCH. Pure: the flags' text in, a new config and annotations out.
 */
export type RuntimeConfig = NonNullable<ImageConfig['config']>;

export interface ConfigOverride {
  config: RuntimeConfig;
  annotations: Record<string, string>;
  architecture?: string;
  os?: string;
  created?: string;
}

export interface ImageEdits {
  override?: ConfigOverride;
  /** KEY=VALUE sets, KEY- removes, - clears all; applied in order after the override. */
  labels?: readonly string[];
  annotations?: readonly string[];
  /** Also the config's `created` and so every history entry's. */
  sourceDateEpoch?: number;
}

/** The runtime fields chunkah takes from a given config; Labels are merged separately. */
const RUNTIME_FIELDS = [
  'User',
  'WorkingDir',
  'StopSignal',
  'Entrypoint',
  'Cmd',
  'Env',
  'ExposedPorts',
  'Volumes',
] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * --config / --config-str: `podman inspect` or `docker inspect` output (an array, whose last
 * element is taken as chunkah does, or one object with `Config`), a whole OCI image config
 * (`config`, `architecture`, `os`), or the runtime config alone (`{"Cmd": [...]}`).
 */
export function parseConfigOverride(text: string, where: string): ConfigOverride {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RechunkerError('USAGE', `${where}: not JSON (${(e as Error).message})`, { cause: e });
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new RechunkerError('USAGE', `${where}: the inspect output is an empty array`);
    value = value[value.length - 1];
  }
  if (!isObject(value)) throw new RechunkerError('USAGE', `${where}: expected a JSON object or an inspect array`);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const strings = (v: unknown): Record<string, string> =>
    isObject(v)
      ? (Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<string, string>)
      : {};
  let out: ConfigOverride;
  if (isObject(value.Config)) {
    out = { config: value.Config as RuntimeConfig, annotations: strings(value.Annotations) };
    const [arch, os, created] = [str(value.Architecture), str(value.Os), str(value.Created)];
    if (arch) out.architecture = arch;
    if (os) out.os = os;
    if (created) out.created = created;
  } else if (isObject(value.config) || 'rootfs' in value || 'architecture' in value) {
    out = { config: (isObject(value.config) ? value.config : {}) as RuntimeConfig, annotations: {} };
    const [arch, os, created] = [str(value.architecture), str(value.os), str(value.created)];
    if (arch) out.architecture = arch;
    if (os) out.os = os;
    if (created) out.created = created;
  } else {
    out = { config: value as RuntimeConfig, annotations: {} };
  }
  if (out.created !== undefined && Number.isNaN(Date.parse(out.created))) {
    throw new RechunkerError('USAGE', `${where}: "Created" is not a date: ${out.created}`);
  }
  return out;
}

/** chunkah's parse_key_value_pairs: KEY=VALUE sets, KEY- removes, a lone - clears. */
export function applyKeyValueOps(
  ops: readonly string[],
  base: Record<string, string>,
  flag: string,
): Record<string, string> {
  const map = { ...base };
  for (const op of ops) {
    const eq = op.indexOf('=');
    if (eq === 0) throw new RechunkerError('USAGE', `${flag} ${op}: the key is empty`);
    if (eq > 0) map[op.slice(0, eq)] = op.slice(eq + 1);
    else if (op === '-') for (const k of Object.keys(map)) delete map[k];
    else if (op.endsWith('-')) delete map[op.slice(0, -1)];
    else throw new RechunkerError('USAGE', `${flag} ${op}: expected KEY=VALUE, KEY- or -`);
  }
  return map;
}

/** RFC 3339 to the second, as chunkah and buildah write `created` from SOURCE_DATE_EPOCH. */
export function epochToCreated(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The image with the edits applied to its config (runtime fields, labels, platform, created) and
 * its manifest annotations. `created` is SOURCE_DATE_EPOCH, else the override's, else the source's.
 */
export function editImage(image: ResolvedImage, edits: ImageEdits): ResolvedImage {
  const src = image.config;
  const o = edits.override;
  const runtime: RuntimeConfig = { ...src.config };
  if (o)
    for (const f of RUNTIME_FIELDS)
      if (o.config[f] !== undefined && o.config[f] !== null) (runtime as Record<string, unknown>)[f] = o.config[f];
  const baseLabels =
    o && isObject(o.config.Labels) ? { ...src.config?.Labels, ...o.config.Labels } : { ...src.config?.Labels };
  const labels = applyKeyValueOps(edits.labels ?? [], baseLabels, '--label');
  if (Object.keys(labels).length > 0) runtime.Labels = labels;
  else delete runtime.Labels;
  const created =
    edits.sourceDateEpoch !== undefined ? epochToCreated(edits.sourceDateEpoch) : (o?.created ?? src.created);
  const config: ImageConfig = {
    ...src,
    ...(o?.architecture ? { architecture: o.architecture } : {}),
    ...(o?.os ? { os: o.os } : {}),
    ...(created !== undefined ? { created } : {}),
    config: runtime,
  };
  const annotations = applyKeyValueOps(
    edits.annotations ?? [],
    { ...image.manifest.annotations, ...o?.annotations },
    '--annotation',
  );
  const manifest = { ...image.manifest };
  if (Object.keys(annotations).length > 0) manifest.annotations = annotations;
  else delete manifest.annotations;
  return { ...image, config, manifest };
}
