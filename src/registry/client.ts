import type { Readable } from 'node:stream';
import { RechunkerError } from '../errors.js';
import { sha256 } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES, type ManifestBytes } from '../oci/resolve.js';
import { MediaType, type Descriptor } from '../oci/types.js';
import { ByteTally, silentProgress, type Progress } from '../progress.js';
import { BlobReader, type BlobResponse } from './blob-reader.js';
import { RegistryConnection, type ConnectionOptions } from './connection.js';
import { BodyTooLargeError, discard, readBody } from './http.js';
import { isDigest } from './docker-reference.js';
import { responseError } from './response-error.js';
import { uploadBlob, type UploadMethod } from './upload.js';

/**
 * An OCI distribution client for one registry (`host[:port]`, or docker.io): manifests by tag or
 * digest, verified resumable blob downloads, blob uploads with existence checks and cross-repo
 * mounts, manifest pushes. Transport, auth and retries live in RegistryConnection.
 */
export interface RegistryClientOptions extends ConnectionOptions {
  /** Where blob bytes pulled and pushed are reported (the progress port; default silent). */
  progress?: Progress;
  /** `put`: POST then one PUT with the blob (default); `patch`: POST, PATCH with the blob, PUT. */
  uploadMethod?: UploadMethod;
}

/** A manifest as received: `digest` is the sha256 of the exact bytes, `mediaType` the Content-Type (or what the bytes say). */
export interface FetchedManifest extends ManifestBytes {
  mediaType: string;
}

export const DEFAULT_MANIFEST_ACCEPT: readonly string[] = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
];

/** The media type of a Content-Type header, without parameters. */
function mediaTypeOf(header: string | undefined): string | undefined {
  const t = header?.split(';')[0]?.trim();
  return t || undefined;
}

export class RegistryClient {
  readonly registry: string;
  readonly conn: RegistryConnection;
  /** Blob bytes sent (every attempt counted) and received. */
  uploadedBytes = 0;
  downloadedBytes = 0;
  private readonly pushRepos = new Set<string>();
  private readonly mountSources = new Map<string, Set<string>>();
  private readonly downloads: ByteTally;
  private readonly uploads: ByteTally;
  private readonly uploadMethod: UploadMethod;

  constructor(registry: string, options: RegistryClientOptions = {}) {
    this.registry = registry;
    this.conn = new RegistryConnection(registry, options);
    const progress = options.progress ?? silentProgress;
    this.downloads = new ByteTally(progress, `pulling from ${registry}`);
    this.uploads = new ByteTally(progress, `pushing to ${registry}`);
    this.uploadMethod = options.uploadMethod ?? 'put';
  }

  /**
   * Ask for push access to `repo` (and pull access to `mountFrom` repositories) in every token for
   * it, so that one token serves a whole push instead of one per kind of request.
   */
  declarePush(repo: string, mountFrom: Iterable<string> = []): void {
    this.pushRepos.add(repo);
    const set = this.mountSources.get(repo) ?? new Set<string>();
    for (const from of mountFrom) if (from !== repo) set.add(from);
    this.mountSources.set(repo, set);
  }

  scopesFor(repo: string): string[] {
    const scopes = [`repository:${repo}:${this.pushRepos.has(repo) ? 'pull,push' : 'pull'}`];
    for (const from of this.mountSources.get(repo) ?? []) scopes.push(`repository:${from}:pull`);
    return scopes;
  }

  where(repo: string): string {
    return `${this.registry}/${repo}`;
  }

  async getManifest(
    repo: string,
    reference: string,
    accept: readonly string[] = DEFAULT_MANIFEST_ACCEPT,
  ): Promise<FetchedManifest> {
    const what = `${this.where(repo)}: manifest ${reference}`;
    const res = await this.conn.send({
      method: 'GET',
      target: `/v2/${repo}/manifests/${reference}`,
      repo,
      scopes: this.scopesFor(repo),
      headers: { accept: accept.join(', ') },
      what,
    });
    if (res.status !== 200)
      throw await responseError(
        res,
        what,
        'cannot fetch',
        res.status >= 500 || res.status === 429 ? afterAttempts(this.conn.retry.attempts) : '',
      );
    let bytes: Buffer;
    try {
      bytes = await readBody(res.body, MAX_MANIFEST_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLargeError)
        throw new RechunkerError(
          'BAD_MANIFEST',
          `${what}: larger than the ${MAX_MANIFEST_BYTES} byte limit for manifests`,
        );
      throw new RechunkerError('NETWORK', `${what}: reading the answer: ${(err as Error).message}`, { cause: err });
    }
    const digest = sha256(bytes);
    if (isDigest(reference) && digest !== reference) {
      throw new RechunkerError('DIGEST_MISMATCH', `${what}: the registry sent a manifest that hashes to ${digest}`);
    }
    let mediaType = mediaTypeOf(res.headers['content-type']);
    if (!mediaType || mediaType === 'application/json' || mediaType === 'text/plain') {
      try {
        const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; manifests?: unknown };
        mediaType =
          typeof parsed.mediaType === 'string'
            ? parsed.mediaType
            : Array.isArray(parsed.manifests)
              ? MediaType.OciIndex
              : MediaType.OciManifest;
      } catch {
        throw new RechunkerError('BAD_MANIFEST', `${what}: not JSON`);
      }
    }
    return { bytes, mediaType, digest };
  }

  /** Digest, media type and size of a manifest, or undefined if there is none under `reference`. */
  async headManifest(
    repo: string,
    reference: string,
    accept: readonly string[] = DEFAULT_MANIFEST_ACCEPT,
  ): Promise<{ digest?: string; mediaType?: string; size?: number } | undefined> {
    const what = `${this.where(repo)}: manifest ${reference}`;
    const res = await this.conn.send({
      method: 'HEAD',
      target: `/v2/${repo}/manifests/${reference}`,
      repo,
      scopes: this.scopesFor(repo),
      headers: { accept: accept.join(', ') },
      what,
    });
    discard(res.body);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await responseError(res, what, 'cannot check');
    const out: { digest?: string; mediaType?: string; size?: number } = {};
    const digest = res.headers['docker-content-digest'];
    if (typeof digest === 'string') out.digest = digest;
    const mt = mediaTypeOf(res.headers['content-type']);
    if (mt) out.mediaType = mt;
    const len = Number(res.headers['content-length']);
    if (Number.isFinite(len)) out.size = len;
    return out;
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const what = `${this.where(repo)}: blob ${digest}`;
    const res = await this.conn.send({
      method: 'HEAD',
      target: `/v2/${repo}/blobs/${digest}`,
      repo,
      scopes: this.scopesFor(repo),
      what,
    });
    discard(res.body);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await responseError(res, what, 'cannot check');
  }

  /** A stream of the blob's bytes, verified against `desc` and resumed after dropped connections. */
  async openBlob(repo: string, desc: Descriptor): Promise<Readable> {
    const what = `${this.where(repo)}: blob ${desc.digest}`;
    const task = this.downloads.start(desc.size);
    const fetch = async (offset: number): Promise<BlobResponse> => {
      const headers: Record<string, string> = {};
      if (offset > 0) headers.range = `bytes=${offset}-`;
      const res = await this.conn.send({
        method: 'GET',
        target: `/v2/${repo}/blobs/${desc.digest}`,
        repo,
        scopes: this.scopesFor(repo),
        headers,
        what,
      });
      if (res.status === 200) return { body: res.body, start: 0 };
      if (res.status === 206) {
        const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
        if (m) return { body: res.body, start: Number(m[1]) };
        discard(res.body);
        throw new RechunkerError('REGISTRY', `${what}: a partial answer without a usable Content-Range`);
      }
      throw await responseError(
        res,
        what,
        'cannot download',
        res.status >= 500 || res.status === 429 ? afterAttempts(this.conn.retry.attempts) : '',
      );
    };
    let initial: BlobResponse;
    try {
      initial = await fetch(0);
    } catch (err) {
      task.done();
      throw err;
    }
    const reader = new BlobReader({
      initial,
      digest: desc.digest,
      size: desc.size,
      what,
      fetch,
      retry: this.conn.retry,
      onBytes: (n) => {
        this.downloadedBytes += n;
        task.add(n);
      },
    });
    reader.on('close', () => task.done());
    return reader;
  }

  /**
   * Mount `digest` from `fromRepo` of the same registry into `repo`. True when the registry
   * mounted it (201); false when it did not (202: the upload session it opened is cancelled).
   */
  async mountBlob(repo: string, fromRepo: string, digest: string): Promise<boolean> {
    this.declarePush(repo, [fromRepo]);
    const what = `${this.where(repo)}: blob ${digest}`;
    const target = `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepo)}`;
    const res = await this.conn.send({ method: 'POST', target, repo, scopes: this.scopesFor(repo), what });
    discard(res.body);
    if (res.status === 201) return true;
    if (res.status === 202) {
      const location = res.headers.location;
      if (location) {
        const base = await this.conn.base();
        const url = new URL(location, new URL(`/v2/${repo}/blobs/uploads/`, base));
        // Best effort: an abandoned session expires on its own anyway.
        await this.conn
          .send({ method: 'DELETE', target: url, repo, scopes: this.scopesFor(repo), what, attempts: 1 })
          .then((r) => discard(r.body))
          .catch(() => {});
      }
      return false;
    }
    throw await responseError(res, what, `cannot mount from ${fromRepo}`);
  }

  /**
   * Upload a blob unless the repository has it: HEAD, then (with `mountFrom`) a mount attempt,
   * then POST + PUT (or PATCH + PUT) with the stream from `open`, verified on the way. A failed
   * attempt starts again with a new session and a fresh stream.
   */
  async pushBlob(
    repo: string,
    desc: Descriptor,
    open: () => Promise<Readable>,
    opts: { mountFrom?: string } = {},
  ): Promise<'exists' | 'mounted' | 'uploaded'> {
    this.declarePush(repo, opts.mountFrom ? [opts.mountFrom] : []);
    if (await this.hasBlob(repo, desc.digest)) return 'exists';
    const task = this.uploads.start(desc.size);
    try {
      return await uploadBlob(this.conn, {
        repo,
        desc,
        open,
        what: `${this.where(repo)}: blob ${desc.digest}`,
        scopes: this.scopesFor(repo),
        method: this.uploadMethod,
        ...(opts.mountFrom && opts.mountFrom !== repo ? { mountFrom: opts.mountFrom } : {}),
        onBytes: (n) => {
          this.uploadedBytes += n;
          task.add(n);
        },
      });
    } finally {
      task.done();
    }
  }

  /** Store a manifest under a tag or its digest; returns its digest. */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    this.declarePush(repo);
    const digest = sha256(bytes);
    const what = `${this.where(repo)}: manifest ${reference}`;
    if (isDigest(reference) && reference !== digest)
      throw new RechunkerError('DIGEST_MISMATCH', `${what}: the manifest bytes hash to ${digest}`);
    const res = await this.conn.send({
      method: 'PUT',
      target: `/v2/${repo}/manifests/${reference}`,
      repo,
      scopes: this.scopesFor(repo),
      headers: { 'content-type': mediaType },
      body: bytes,
      what,
    });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) {
      throw await responseError(
        res,
        what,
        'push failed',
        res.status >= 500 || res.status === 429 ? afterAttempts(this.conn.retry.attempts) : '',
      );
    }
    discard(res.body);
    const stored = res.headers['docker-content-digest'];
    if (typeof stored === 'string' && stored !== digest) {
      throw new RechunkerError(
        'REGISTRY',
        `${what}: the registry stored the manifest as ${stored}, not as the ${digest} that was sent`,
      );
    }
    return digest;
  }

  close(): void {
    this.conn.close();
  }
}

/** ' (after N attempts)', for a failure the retries did not mend; nothing for a single try. */
function afterAttempts(n: number): string {
  return n > 1 ? ` (after ${n} attempts)` : '';
}
