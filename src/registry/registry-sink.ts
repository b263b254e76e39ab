import type { Readable } from 'node:stream';
import { RechunkerError } from '../errors.js';
import { sha256 } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { BlobOutcome, ImageSink } from '../oci/transport.js';
import { createLimit, type Limit } from '../util/concurrency.js';
import { RegistryClient } from './client.js';
import { formatDockerReference, type DockerReference } from './docker-reference.js';
import { DEFAULT_JOBS } from '../oci/transport.js';
import { toReference, type RegistryOptions } from './registry-source.js';

export interface RegistrySinkOptions extends RegistryOptions {
  /**
   * Where blobs may be mounted from instead of uploaded: a repository path of the destination
   * registry, or a reference (used only when it is on the same registry, e.g. the copy's source).
   */
  mountFrom?: string | DockerReference;
}

export interface PushStats {
  /** Blobs the registry already had (HEAD said so). */
  existing: number;
  mounted: number;
  uploaded: number;
}

/**
 * Writes one image to a registry: blobs first (skipped when present, mounted when possible,
 * at most `jobs` at a time however many the caller starts), the manifest last. If any blob
 * failed, putManifest refuses, so a failed push never leaves a tag pointing at a partial image.
 */
export class RegistrySink implements ImageSink {
  readonly name: string;
  readonly ref: DockerReference;
  readonly client: RegistryClient;
  readonly stats: PushStats = { existing: 0, mounted: 0, uploaded: 0 };
  private readonly mountFrom?: string;
  private readonly limit: Limit;
  private readonly ownsClient: boolean;
  private readonly failed: string[] = [];

  constructor(ref: DockerReference | string, options: RegistrySinkOptions = {}) {
    this.ref = toReference(ref);
    this.name = `docker://${formatDockerReference(this.ref)}`;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new RegistryClient(this.ref.registry, options);
    this.limit = createLimit(options.jobs ?? DEFAULT_JOBS);
    const from = options.mountFrom;
    const repo = typeof from === 'string' ? from : from?.registry === this.ref.registry ? from.repository : undefined;
    if (repo && repo !== this.ref.repository) this.mountFrom = repo;
    this.client.declarePush(this.ref.repository, this.mountFrom ? [this.mountFrom] : []);
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.client.hasBlob(this.ref.repository, desc.digest);
  }

  putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<BlobOutcome> {
    return this.limit(async () => {
      try {
        const how = await this.client.pushBlob(
          this.ref.repository,
          desc,
          open,
          this.mountFrom ? { mountFrom: this.mountFrom } : {},
        );
        if (how === 'exists') this.stats.existing++;
        else if (how === 'mounted') this.stats.mounted++;
        else this.stats.uploaded++;
        return how === 'exists' ? 'skipped' : how;
      } catch (err) {
        this.failed.push(desc.digest);
        throw err;
      }
    });
  }

  /** A child manifest (one an index names) goes up by digest; the tag is the index's. */
  async putManifest(bytes: Buffer, mediaType: string, digest: string, opts: { child?: boolean } = {}): Promise<void> {
    const actual = sha256(bytes);
    if (actual !== digest)
      throw new RechunkerError('DIGEST_MISMATCH', `${this.name}: manifest bytes hash to ${actual}, not ${digest}`);
    if (this.failed.length > 0) {
      throw new RechunkerError(
        'REGISTRY',
        `${this.name}: not pushing the manifest: ${this.failed.length} blob(s) failed to upload (${this.failed.join(', ')})`,
      );
    }
    if (opts.child) {
      await this.client.putManifest(this.ref.repository, digest, bytes, mediaType);
      return;
    }
    if (this.ref.digest !== undefined && this.ref.digest !== digest) {
      throw new RechunkerError(
        'DIGEST_MISMATCH',
        `${this.name}: the destination names digest ${this.ref.digest}, the manifest is ${digest}`,
      );
    }
    await this.client.putManifest(this.ref.repository, this.ref.tag ?? digest, bytes, mediaType);
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.close();
  }
}
