import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { RechunkerError } from '../errors.js';
import { SELF_VERIFIED, type SelfVerified } from '../oci/digest.js';
import { backoffDelay, isRetryableError, wait, type RetryPolicy } from './retry.js';

/**
 * A blob download that verifies while it streams and survives dropped connections.
 *
 * Bytes are hashed and counted as they pass; the stream fails with SIZE_MISMATCH as soon as it
 * would exceed the descriptor's size, and with DIGEST_MISMATCH at the end if the hash differs:
 * a consumer never sees the end of a blob that is not the one asked for.
 *
 * When a connection drops (or the body ends short) the download asks again from where it got to,
 * with `Range: bytes=N-`. A 206 answer continues the stream; a 200 answer (no range support)
 * starts from zero, and the first N bytes are read and thrown away, so nothing is emitted twice.
 */
export interface BlobResponse {
  body: IncomingMessage;
  /** The offset in the blob of the body's first byte (0 for a 200 answer). */
  start: number;
}

export interface BlobReaderOptions {
  digest: string;
  size: number;
  /** For messages: `registry/repo: blob sha256:…`. */
  what: string;
  /** Fetch the blob from `offset` (a Range request when offset > 0). Throws RechunkerError on HTTP errors. */
  fetch: (offset: number) => Promise<BlobResponse>;
  retry: RetryPolicy;
  /** Called with each run of new bytes (progress, counters). */
  onBytes?: (n: number) => void;
  /** The answer to a first request already made (from offset 0), so that errors such as 404 come early. */
  initial?: BlobResponse;
}

/** However flaky the connection, a download gives up after this many resumptions. */
const MAX_RESUMES = 100;

export class BlobReader extends Readable implements SelfVerified {
  readonly [SELF_VERIFIED]: { digest: string; size: number };
  private readonly hash: Hash = createHash('sha256');
  private received = 0;
  private res?: IncomingMessage;
  private starting = false;
  private finished = false;
  /** Failures in a row without a byte of progress. */
  private stalls = 0;
  private resumes = 0;
  /** Ranged requests answered 206 (for tests and diagnostics). */
  rangedResumes = 0;

  constructor(private readonly opts: BlobReaderOptions) {
    super();
    this[SELF_VERIFIED] = { digest: opts.digest, size: opts.size };
    if (opts.initial) this.attach(opts.initial.body, 0);
  }

  override _read(): void {
    if (this.res) this.res.resume();
    else if (!this.starting && !this.finished) void this.begin();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.finished = true;
    this.res?.destroy();
    this.res = undefined;
    cb(err);
  }

  private async begin(): Promise<void> {
    this.starting = true;
    let response: BlobResponse;
    try {
      response = await this.opts.fetch(this.received);
    } catch (err) {
      this.starting = false;
      this.destroy(err as Error);
      return;
    }
    this.starting = false;
    if (this.destroyed) {
      response.body.destroy();
      return;
    }
    if (response.start > this.received) {
      response.body.destroy();
      this.destroy(
        new RechunkerError(
          'REGISTRY',
          `${this.opts.what}: asked for bytes from ${this.received}, got a range starting at ${response.start}`,
        ),
      );
      return;
    }
    if (response.start > 0) this.rangedResumes++;
    this.attach(response.body, this.received - response.start);
  }

  private attach(body: IncomingMessage, skipBytes: number): void {
    this.res = body;
    let skip = skipBytes;
    let done = false;
    const progressAtStart = this.received;
    const settle = (): boolean => {
      if (done) return false;
      done = true;
      this.res = undefined;
      return true;
    };
    body.on('data', (chunk: Buffer) => {
      if (done) return;
      let data = chunk;
      if (skip > 0) {
        const n = Math.min(skip, data.length);
        skip -= n;
        data = data.subarray(n);
        if (data.length === 0) return;
      }
      if (this.received + data.length > this.opts.size) {
        settle();
        body.destroy();
        this.destroy(
          new RechunkerError(
            'SIZE_MISMATCH',
            `${this.opts.what}: more than the ${this.opts.size} bytes its descriptor declares`,
          ),
        );
        return;
      }
      this.received += data.length;
      this.hash.update(data);
      this.opts.onBytes?.(data.length);
      if (!this.push(data)) body.pause();
    });
    body.on('end', () => {
      if (!settle()) return;
      if (this.received === this.opts.size) this.finish();
      else
        void this.reconnect(new Error(`body ended after ${this.received} of ${this.opts.size} bytes`), progressAtStart);
    });
    body.on('error', (err) => {
      if (settle()) void this.reconnect(err, progressAtStart);
    });
    body.on('close', () => {
      if (settle()) void this.reconnect(new Error('connection closed mid-blob'), progressAtStart);
    });
  }

  private finish(): void {
    this.finished = true;
    const got = 'sha256:' + this.hash.digest('hex');
    if (got !== this.opts.digest) {
      this.destroy(new RechunkerError('DIGEST_MISMATCH', `${this.opts.what}: content hashes to ${got}`));
      return;
    }
    this.push(null);
  }

  private async reconnect(err: unknown, progressAtStart: number): Promise<void> {
    if (this.destroyed || this.finished) return;
    this.stalls = this.received > progressAtStart ? 1 : this.stalls + 1;
    this.resumes++;
    const short = !(err instanceof Error) || /body ended|connection closed/.test(err.message) || isRetryableError(err);
    if (!short || this.stalls >= this.opts.retry.attempts || this.resumes > MAX_RESUMES) {
      const why = err instanceof Error ? err.message : String(err);
      this.destroy(
        new RechunkerError(
          'NETWORK',
          `${this.opts.what}: download failed after ${this.received} of ${this.opts.size} bytes: ${why}`,
          { cause: err },
        ),
      );
      return;
    }
    await wait(backoffDelay(this.stalls, this.opts.retry));
    if (!this.destroyed) await this.begin();
  }
}
