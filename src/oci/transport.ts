import type { Readable } from 'node:stream';
import type { Descriptor, ImageConfig, Manifest, Platform } from './types.js';

/**
 * The seam between image transports (oci layout, oci-archive, registry) and the stages above:
 * every transport implements ImageSource to be read and ImageSink to be written. It imports
 * nothing but the spec types, so any stage may depend on it. A root filesystem is not an image
 * and has its own seam (graph/tree-source.ts).
 */

/** One image, resolved from a reference (a tag, a digest, an index entry for a platform). */
export interface ResolvedImage {
  manifest: Manifest;
  /** The exact bytes received and their digest: never re-serialised. */
  manifestBytes: Buffer;
  manifestDigest: string;
  config: ImageConfig;
  configBytes: Buffer;
}

/** A manifest or an index as stored: its exact bytes, the media type it was given, its digest. */
export interface StoredManifest {
  bytes: Buffer;
  mediaType?: string;
  digest: string;
}

/** What putBlob did, for the summary of where the bytes went. */
export type BlobOutcome = 'uploaded' | 'mounted' | 'skipped';

export interface ImageSource {
  readonly kind: 'image';
  /** The reference as the user wrote it, for messages. */
  readonly name: string;
  /** Pick the image: platform selection when the reference names an index. */
  resolve(platform: Platform): Promise<ResolvedImage>;
  /**
   * Open a blob as a stream that fails (with a RechunkerError naming the blob) unless its bytes
   * hash to desc.digest and count desc.size. Safe to call again for the same blob.
   */
  openBlob(desc: Descriptor): Promise<Readable>;
  /**
   * The manifest or index the reference names, before any platform is picked, and the manifests
   * an index names (checked against the entry's digest and size): what copying a whole index
   * needs. A transport without them can only copy one image.
   */
  readTop?(platform: Platform): Promise<StoredManifest>;
  readManifest?(desc: Descriptor): Promise<StoredManifest>;
  close(): Promise<void>;
}

export interface ImageSink {
  readonly name: string;
  /** Does the destination already hold this blob? (skip uploads, reuse layers) */
  hasBlob(desc: Descriptor): Promise<boolean>;
  /**
   * Store a blob. `open` may be called more than once (retries); each call returns a fresh stream
   * of the same bytes. The sink verifies digest and size before the blob becomes visible.
   */
  putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<BlobOutcome>;
  /** Optional fast path: move a finished local file in as the blob (layouts on the same disk). */
  adoptFile?(file: string, desc: Descriptor): Promise<BlobOutcome>;
  /**
   * Store the manifest and point the reference's tag at it, last and atomically: until this call
   * returns nothing under the tag has changed. With `child`, the manifest is one an index will
   * name: stored by digest and the tag left alone (an index's manifests go first, the index last).
   */
  putManifest(bytes: Buffer, mediaType: string, digest: string, opts?: { child?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Concurrent blob transfers when `jobs` is not given. Most of a small blob's time is round trips
 * (HEAD, POST, PUT; or one GET) while the registry works, so more in flight hides them: with 64 layers
 * on a loopback registry (2 cores), 8 took 0.80 s to push against 0.90 s for 4 and pulled a
 * little faster too (0.66 against 0.76 s, best of 6); 16 gained nothing more. skopeo uses 6.
 */
export const DEFAULT_JOBS = 8;
