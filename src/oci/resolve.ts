import { RechunkerError } from '../errors.js';
import type { ResolvedImage } from '../ref/transport.js';
import { sha256 } from './digest.js';
import { selectPlatform } from './platform.js';
import type { Descriptor, Platform } from './types.js';
import { parseConfig, parseManifest } from './validate.js';

/** Manifests and configs are small; anything larger than this is refused rather than parsed. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;
const MAX_NESTING = 4;

export type ReadSmallBlob = (desc: Descriptor, limit: number) => Promise<Buffer>;

/**
 * Follow a descriptor from the top (an index entry or a registry manifest) down to one image:
 * nested indexes resolved by platform, the manifest and config read, verified and parsed.
 * Shared by every transport that can hand out small blobs by descriptor.
 */
export async function resolveFromDescriptor(top: Descriptor, read: ReadSmallBlob, platform: Platform, where: string): Promise<ResolvedImage> {
  let desc = top;
  for (let depth = 0; depth < MAX_NESTING; depth++) {
    if (desc.size > MAX_MANIFEST_BYTES) throw new RechunkerError('BAD_MANIFEST', `${where}: manifest ${desc.digest} is ${desc.size} bytes, over the ${MAX_MANIFEST_BYTES} byte limit`);
    const bytes = await read(desc, MAX_MANIFEST_BYTES);
    const parsed = parseManifest(bytes, desc.mediaType, `${where}: manifest ${desc.digest}`);
    if (parsed.kind === 'index') {
      desc = selectPlatform(parsed.index.manifests, platform, where);
      continue;
    }
    const cfgDesc = parsed.manifest.config;
    if (cfgDesc.size > MAX_CONFIG_BYTES) throw new RechunkerError('BAD_MANIFEST', `${where}: config is ${cfgDesc.size} bytes, over the limit`);
    const configBytes = await read(cfgDesc, MAX_CONFIG_BYTES);
    const config = parseConfig(configBytes, parsed.manifest.layers.length, `${where}: config ${cfgDesc.digest}`);
    return { manifest: parsed.manifest, manifestBytes: bytes, manifestDigest: sha256(bytes), config, configBytes };
  }
  throw new RechunkerError('BAD_MANIFEST', `${where}: image indexes nested more than ${MAX_NESTING} deep`);
}
