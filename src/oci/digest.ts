import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { RechunkerError } from '../errors.js';
import type { Descriptor } from './types.js';

const SHA256 = /^sha256:[a-f0-9]{64}$/;

/** Reject anything but a well-formed sha256 digest: digests become file names in a layout. */
export function checkDigest(digest: unknown, where: string): string {
  if (typeof digest !== 'string' || !SHA256.test(digest)) {
    const shown = typeof digest === 'string' ? digest.slice(0, 80) : typeof digest;
    throw new RechunkerError(
      'BAD_MANIFEST',
      `${where}: invalid or unsupported digest "${shown}" (only sha256 is supported)`,
    );
  }
  return digest;
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** The descriptor of bytes in hand (a config, a manifest). */
export function describeBytes(mediaType: string, bytes: Buffer): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * The mark of a stream that checks its own bytes: it ends only when they hash to `digest` and
 * count exactly `size`, and fails otherwise. A consumer that gets such a stream for the same
 * descriptor need not hash the bytes a second time.
 */
export const SELF_VERIFIED = Symbol('rechunker.selfVerified');

export interface SelfVerified {
  [SELF_VERIFIED]?: { digest: string; size: number };
}

/** True when `stream` itself fails unless its bytes are exactly `expect`. */
export function verifiesItself(stream: object, expect: { digest: string; size: number }): boolean {
  const mark = (stream as SelfVerified)[SELF_VERIFIED];
  return mark !== undefined && mark.digest === expect.digest && mark.size === expect.size;
}

/** Counts and hashes what flows through; `digest()` is valid once the stream has ended. */
export class HashCounter extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  private result?: string;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.result = 'sha256:' + this.hash.digest('hex');
    cb();
  }

  digest(): string {
    if (this.result === undefined) throw new Error('HashCounter: digest read before end of stream');
    return this.result;
  }
}

/**
 * Passes bytes through and fails the stream unless they hash to `digest` and count exactly
 * `size` (checked as soon as the size is exceeded, so a hostile blob cannot stream forever).
 */
export class VerifyStream extends Transform implements SelfVerified {
  readonly [SELF_VERIFIED]: { digest: string; size: number };
  private readonly hash: Hash = createHash('sha256');
  private seen = 0;

  constructor(
    private readonly digest: string,
    private readonly size: number,
    private readonly what: string,
  ) {
    super();
    this[SELF_VERIFIED] = { digest, size };
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.size) {
      cb(new RechunkerError('SIZE_MISMATCH', `${this.what}: more than the ${this.size} bytes its descriptor declares`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.seen !== this.size) {
      cb(
        new RechunkerError(
          'SIZE_MISMATCH',
          `${this.what}: ${this.seen} bytes, descriptor declares ${this.size} (truncated?)`,
        ),
      );
      return;
    }
    const got = 'sha256:' + this.hash.digest('hex');
    if (got !== this.digest) {
      cb(new RechunkerError('DIGEST_MISMATCH', `${this.what}: content hashes to ${got}, expected ${this.digest}`));
      return;
    }
    cb();
  }
}
