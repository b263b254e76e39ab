import type { Readable } from 'node:stream';
import { RechunkerError } from '../errors.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { ImageSource, ResolvedImage } from '../ref/transport.js';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import { parseImageConfig, parseRegistryManifest } from './manifest.js';
import { selectManifest } from './platform-select.js';
import { formatDockerReference, manifestReference, parseDockerReference, type DockerReference } from './reference.js';

/**
 * Options shared by RegistrySource and RegistrySink: the CLI's --creds, --authfile,
 * --tls-verify, --jobs, --quiet map onto creds, authfile, tlsVerify, jobs, progress.quiet.
 */
export interface RegistryOptions extends RegistryClientOptions {
  /** Concurrent blob transfers (default 4). */
  jobs?: number;
  /** Use this client instead of making one (to share connections and tokens, e.g. source and sink on one registry). */
  client?: RegistryClient;
}

const MAX_CONFIG_BYTES = 64 * 1024 * 1024;
const MAX_NESTING = 4;

export function toReference(ref: DockerReference | string): DockerReference {
  return typeof ref === 'string' ? parseDockerReference(ref) : ref;
}

/** Reads one image from a registry: `docker://HOST/REPO[:TAG|@DIGEST]`. */
export class RegistrySource implements ImageSource {
  readonly name: string;
  readonly ref: DockerReference;
  readonly client: RegistryClient;
  private readonly ownsClient: boolean;

  constructor(ref: DockerReference | string, options: RegistryOptions = {}) {
    this.ref = toReference(ref);
    this.name = `docker://${formatDockerReference(this.ref)}`;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new RegistryClient(this.ref.registry, options);
  }

  async resolve(platform: Platform): Promise<ResolvedImage> {
    const repo = this.ref.repository;
    const reference = manifestReference(this.ref);
    let fetched = await this.client.getManifest(repo, reference);
    let where = `${this.name}: manifest ${fetched.digest}`;
    for (let depth = 0; ; depth++) {
      const parsed = parseRegistryManifest(fetched.bytes, fetched.mediaType, where);
      if (parsed.kind === 'manifest') {
        const cfgDesc = parsed.manifest.config;
        if (cfgDesc.size > MAX_CONFIG_BYTES) throw new RechunkerError('BAD_MANIFEST', `${this.name}: config ${cfgDesc.digest} is ${cfgDesc.size} bytes, over the ${MAX_CONFIG_BYTES} byte limit`);
        const configBytes = await this.readSmallBlob(cfgDesc);
        const config = parseImageConfig(configBytes, parsed.manifest.layers.length, `${this.name}: config ${cfgDesc.digest}`);
        return { manifest: parsed.manifest, manifestBytes: fetched.bytes, manifestDigest: fetched.digest, config, configBytes };
      }
      if (depth >= MAX_NESTING) throw new RechunkerError('BAD_MANIFEST', `${this.name}: image indexes nested more than ${MAX_NESTING} deep`);
      const chosen = selectManifest(parsed.index.manifests, platform, this.name);
      fetched = await this.client.getManifest(repo, chosen.digest);
      where = `${this.name}: manifest ${chosen.digest}`;
      if (fetched.bytes.length !== chosen.size) {
        throw new RechunkerError('SIZE_MISMATCH', `${where}: ${fetched.bytes.length} bytes, the index says ${chosen.size}`);
      }
      // The index entry's media type is what the manifest claims to be.
      if (chosen.mediaType) fetched = { ...fetched, mediaType: chosen.mediaType };
    }
  }

  private async readSmallBlob(desc: Descriptor): Promise<Buffer> {
    const stream = await this.client.openBlob(this.ref.repository, desc);
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  openBlob(desc: Descriptor): Promise<Readable> {
    return this.client.openBlob(this.ref.repository, desc);
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.close();
  }
}
