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
  putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void>;
  /** Optional fast path: move a finished local file in as the blob (layouts on the same disk). */
  adoptFile?(file: string, desc: Descriptor): Promise<void>;
  /**
   * Store the manifest and point the reference's tag at it, last and atomically: until this call
   * returns nothing under the tag has changed.
   */
  putManifest(bytes: Buffer, mediaType: string, digest: string): Promise<void>;
  close(): Promise<void>;
}
