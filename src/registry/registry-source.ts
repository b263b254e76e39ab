import type { Readable } from 'node:stream';
import { fetchDescribed, resolveImage } from '../oci/resolve.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { ImageSource, ResolvedImage, StoredManifest } from '../oci/transport.js';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import {
  formatDockerReference,
  manifestReference,
  parseDockerReference,
  type DockerReference,
} from './docker-reference.js';

/**
 * Options shared by RegistrySource and RegistrySink: the CLI's --creds, --authfile,
 * --tls-verify, --jobs map onto creds, authfile, tlsVerify, jobs; bytes go to `progress`.
 */
export interface RegistryOptions extends RegistryClientOptions {
  /** Concurrent blob transfers (default DEFAULT_JOBS, 8). */
  jobs?: number;
  /** Use this client instead of making one (to share connections and tokens, e.g. source and sink on one registry). */
  client?: RegistryClient;
}

export function toReference(ref: DockerReference | string): DockerReference {
  return typeof ref === 'string' ? parseDockerReference(ref) : ref;
}

/** Reads one image from a registry: `docker://HOST/REPO[:TAG|@DIGEST]`. */
export class RegistrySource implements ImageSource {
  readonly kind = 'image' as const;
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
    const top = await this.client.getManifest(repo, manifestReference(this.ref));
    // Nested manifests come by digest from the manifests endpoint; configs are blobs.
    const fetchManifest = async (desc: Descriptor): Promise<Buffer> =>
      (await this.client.getManifest(repo, desc.digest)).bytes;
    return resolveImage(top, fetchManifest, (desc) => this.readSmallBlob(desc), platform, this.name);
  }

  async readTop(): Promise<StoredManifest> {
    return this.client.getManifest(this.ref.repository, manifestReference(this.ref));
  }

  readManifest(desc: Descriptor): Promise<StoredManifest> {
    const fetch = async (d: Descriptor) => (await this.client.getManifest(this.ref.repository, d.digest)).bytes;
    return fetchDescribed(desc, fetch, this.name);
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
