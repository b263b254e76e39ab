import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { RechunkerError } from '../errors.js';
import { verifiesItself } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { TransientError, type RegistryConnection } from './connection.js';
import { discard, type HttpResponse } from './http.js';
import { registryErrorDetail, responseError, statusText } from './response-error.js';
import { backoffDelay, isRetryableStatus, parseRetryAfter, wait } from './retry.js';

/**
 * A blob upload, following the distribution spec:
 *
 *   POST /v2/<repo>/blobs/uploads/[?mount=<digest>&from=<other repo>]
 *     201: mounted, done.   202: an upload session at `Location` (maybe relative)
 *   put:   PUT <location>[?&]digest=<digest>   with the bytes             -> 201
 *   patch: PATCH <location> with the bytes -> 202 + new Location; PUT <it>?digest=  -> 201
 *
 * The bytes stream through a verifier (size and sha256) on their way out, so a source that does
 * not deliver what the descriptor says fails the upload instead of storing a wrong blob. A
 * connection failure or 408/429/5xx anywhere restarts the whole exchange with a new session and a
 * fresh stream from `open`, after a backoff (Retry-After honoured); other answers fail at once.
 */
export type UploadMethod = 'put' | 'patch';

export interface UploadSpec {
  repo: string;
  desc: Descriptor;
  open: () => Promise<Readable>;
  /** `host/repo: blob sha256:…` */
  what: string;
  scopes: string[];
  method: UploadMethod;
  mountFrom?: string;
  onBytes?: (n: number) => void;
}

/**
 * Counts (and, unless the source checks its own bytes against the same descriptor, hashes) what
 * goes out; fails on the first byte past the declared size, and at the end on a short or wrong blob.
 */
class UploadVerifier extends Transform {
  private readonly hash?: Hash;
  private seen = 0;

  constructor(
    private readonly desc: Descriptor,
    private readonly what: string,
    private readonly onBytes: ((n: number) => void) | undefined,
    sourceVerifies: boolean,
  ) {
    super();
    if (!sourceVerifies) this.hash = createHash('sha256');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.desc.size) {
      cb(
        new RechunkerError(
          'SIZE_MISMATCH',
          `${this.what}: the source gives more than the ${this.desc.size} bytes its descriptor declares`,
        ),
      );
      return;
    }
    this.hash?.update(chunk);
    this.onBytes?.(chunk.length);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.seen !== this.desc.size) {
      cb(
        new RechunkerError(
          'SIZE_MISMATCH',
          `${this.what}: the source gives ${this.seen} bytes, its descriptor declares ${this.desc.size}`,
        ),
      );
      return;
    }
    if (!this.hash) {
      cb();
      return;
    }
    const got = 'sha256:' + this.hash.digest('hex');
    if (got !== this.desc.digest) {
      cb(new RechunkerError('DIGEST_MISMATCH', `${this.what}: the source's bytes hash to ${got}`));
      return;
    }
    cb();
  }
}

/** Append `digest=` to an upload URL that may already carry a query (distribution's `_state`). */
export function withDigest(location: URL, digest: string): URL {
  const url = new URL(location);
  const param = `digest=${encodeURIComponent(digest)}`;
  url.search = url.search && url.search !== '?' ? `${url.search}&${param}` : `?${param}`;
  return url;
}

/** Throw TransientError for answers worth another attempt, a RechunkerError for the rest. */
async function fail(res: HttpResponse, what: string, action: string): Promise<never> {
  if (isRetryableStatus(res.status)) {
    const detail = await registryErrorDetail(res);
    const text = statusText(res.status, res.statusText) + (detail.text ? ` (${detail.text})` : '');
    throw new TransientError(text, parseRetryAfter(res.headers['retry-after']), { status: res.status });
  }
  throw await responseError(res, what, action);
}

function location(res: HttpResponse, what: string): URL {
  const loc = res.headers.location;
  if (!loc)
    throw new RechunkerError(
      'REGISTRY',
      `${what}: the registry answered ${res.status} without a Location for the upload`,
    );
  return new URL(loc, res.url);
}

async function startSession(conn: RegistryConnection, spec: UploadSpec): Promise<URL | 'mounted'> {
  let target = `/v2/${spec.repo}/blobs/uploads/`;
  if (spec.mountFrom)
    target += `?mount=${encodeURIComponent(spec.desc.digest)}&from=${encodeURIComponent(spec.mountFrom)}`;
  const res = await conn.send({
    method: 'POST',
    target,
    repo: spec.repo,
    scopes: spec.scopes,
    what: spec.what,
    attempts: 1,
  });
  if (res.status === 201 && spec.mountFrom) {
    discard(res.body);
    return 'mounted';
  }
  if (res.status !== 202) await fail(res, spec.what, 'cannot start the upload');
  discard(res.body);
  return location(res, spec.what);
}

async function sendBytes(conn: RegistryConnection, spec: UploadSpec, session: URL): Promise<void> {
  const opened: Readable[] = [];
  const body = async (): Promise<Readable> => {
    let source: Readable;
    try {
      source = await spec.open();
    } catch (err) {
      if (err instanceof RechunkerError) throw err;
      throw new RechunkerError('IO', `${spec.what}: cannot open the blob to upload: ${(err as Error).message}`, {
        cause: err,
      });
    }
    opened.push(source);
    const verifier = new UploadVerifier(spec.desc, spec.what, spec.onBytes, verifiesItself(source, spec.desc));
    opened.push(verifier);
    source.on('error', (err) => {
      verifier.destroy(
        err instanceof RechunkerError
          ? err
          : new RechunkerError('IO', `${spec.what}: reading the blob to upload: ${err.message}`, { cause: err }),
      );
    });
    return source.pipe(verifier);
  };
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(spec.desc.size) };
  try {
    if (spec.method === 'put') {
      const res = await conn.send({
        method: 'PUT',
        target: withDigest(session, spec.desc.digest),
        repo: spec.repo,
        scopes: spec.scopes,
        headers,
        body,
        what: spec.what,
        attempts: 1,
      });
      await finish(res, spec);
      return;
    }
    const patched = await conn.send({
      method: 'PATCH',
      target: session,
      repo: spec.repo,
      scopes: spec.scopes,
      headers,
      body,
      what: spec.what,
      attempts: 1,
    });
    if (patched.status !== 202 && patched.status !== 204) await fail(patched, spec.what, 'upload failed');
    discard(patched.body);
    const next = location(patched, spec.what);
    const res = await conn.send({
      method: 'PUT',
      target: withDigest(next, spec.desc.digest),
      repo: spec.repo,
      scopes: spec.scopes,
      what: spec.what,
      attempts: 1,
    });
    await finish(res, spec);
  } finally {
    for (const s of opened) s.destroy();
  }
}

async function finish(res: HttpResponse, spec: UploadSpec): Promise<void> {
  if (res.status !== 201 && res.status !== 204 && res.status !== 200) await fail(res, spec.what, 'upload failed');
  discard(res.body);
  const stored = res.headers['docker-content-digest'];
  if (typeof stored === 'string' && stored !== spec.desc.digest) {
    throw new RechunkerError('DIGEST_MISMATCH', `${spec.what}: the registry stored the blob as ${stored}`);
  }
}

export async function uploadBlob(conn: RegistryConnection, spec: UploadSpec): Promise<'mounted' | 'uploaded'> {
  const attempts = conn.retry.attempts;
  let last: TransientError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const session = await startSession(conn, spec);
      if (session === 'mounted') return 'mounted';
      await sendBytes(conn, spec, session);
      return 'uploaded';
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      last = err;
      if (attempt < attempts) await wait(backoffDelay(attempt, conn.retry, err.retryAfterMs));
    }
  }
  const code = last?.status !== undefined ? 'REGISTRY' : 'NETWORK';
  throw new RechunkerError(
    code,
    `${spec.what}: upload failed: ${last?.message ?? 'unknown error'} (after ${attempts} attempts)`,
    { cause: last },
  );
}
