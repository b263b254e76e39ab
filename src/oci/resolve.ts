import { RechunkerError } from '../errors.js';
import type { ResolvedImage } from './transport.js';
import { sha256 } from './digest.js';
import { selectPlatform } from './platform.js';
import type { Descriptor, Platform } from './types.js';
import { parseConfig, parseManifest } from './validate.js';

/** Manifests and configs are small; anything larger than this is refused rather than parsed. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024;
/** Indexes inside indexes: how many levels are followed before giving up. */
const MAX_NESTING = 4;

/** A manifest or index in hand: its exact bytes, the media type it was given (if any), its digest. */
export interface ManifestBytes {
  bytes: Buffer;
  mediaType?: string;
  digest: string;
}

/** The bytes of the manifest (or index) a descriptor names; the size and digest are checked here. */
export type FetchManifest = (desc: Descriptor) => Promise<Buffer>;
/** The bytes of a small blob (a config), at most `limit` of them. */
export type ReadConfig = (desc: Descriptor, limit: number) => Promise<Buffer>;

/**
 * Follow a manifest down to one image: nested indexes resolved by platform (each entry fetched
 * with `fetchManifest` and checked against the entry's size and digest), then the config read,
 * and both parsed. Shared by every transport: a layout starts from an index.json entry, a registry
 * from the manifest it answered for a tag or digest.
 */
export async function resolveImage(
  top: ManifestBytes,
  fetchManifest: FetchManifest,
  readConfig: ReadConfig,
  platform: Platform,
  where: string,
): Promise<ResolvedImage> {
  let current = top;
  for (let depth = 0; ; depth++) {
    const parsed = parseManifest(current.bytes, current.mediaType, `${where}: manifest ${current.digest}`);
    if (parsed.kind === 'manifest') {
      const cfgDesc = parsed.manifest.config;
      if (cfgDesc.size > MAX_CONFIG_BYTES)
        throw new RechunkerError(
          'BAD_MANIFEST',
          `${where}: config ${cfgDesc.digest} is ${cfgDesc.size} bytes, over the ${MAX_CONFIG_BYTES} byte limit`,
        );
      const configBytes = await readConfig(cfgDesc, MAX_CONFIG_BYTES);
      const config = parseConfig(configBytes, parsed.manifest.layers.length, `${where}: config ${cfgDesc.digest}`);
      return {
        manifest: parsed.manifest,
        manifestBytes: current.bytes,
        manifestDigest: current.digest,
        config,
        configBytes,
      };
    }
    if (depth >= MAX_NESTING)
      throw new RechunkerError('BAD_MANIFEST', `${where}: image indexes nested more than ${MAX_NESTING} deep`);
    current = await fetchDescribed(selectPlatform(parsed.index.manifests, platform, where), fetchManifest, where);
  }
}

/** Fetch the manifest a descriptor names and check it is that one; its media type is the descriptor's. */
export async function fetchDescribed(
  desc: Descriptor,
  fetchManifest: FetchManifest,
  where: string,
): Promise<ManifestBytes> {
  const what = `${where}: manifest ${desc.digest}`;
  if (desc.size > MAX_MANIFEST_BYTES)
    throw new RechunkerError(
      'BAD_MANIFEST',
      `${what} is ${desc.size} bytes, over the ${MAX_MANIFEST_BYTES} byte limit`,
    );
  const bytes = await fetchManifest(desc);
  if (bytes.length !== desc.size)
    throw new RechunkerError('SIZE_MISMATCH', `${what}: ${bytes.length} bytes, the index says ${desc.size}`);
  const digest = sha256(bytes);
  if (digest !== desc.digest) throw new RechunkerError('DIGEST_MISMATCH', `${what}: content hashes to ${digest}`);
  return { bytes, mediaType: desc.mediaType, digest };
}

/** Reads any small blob by descriptor; `kind` names it in messages. */
export type ReadSmallBlob = (desc: Descriptor, limit: number, kind: 'manifest' | 'config') => Promise<Buffer>;

/** For transports where manifests and configs are both blobs (an OCI layout): start from a descriptor. */
export async function resolveFromDescriptor(
  top: Descriptor,
  read: ReadSmallBlob,
  platform: Platform,
  where: string,
): Promise<ResolvedImage> {
  const fetchManifest: FetchManifest = (desc) => read(desc, MAX_MANIFEST_BYTES, 'manifest');
  return resolveImage(
    await fetchDescribed(top, fetchManifest, where),
    fetchManifest,
    (desc, limit) => read(desc, limit, 'config'),
    platform,
    where,
  );
}
