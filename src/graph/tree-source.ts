import type { ResolvedImage } from '../oci/transport.js';
import type { Platform } from '../oci/types.js';
import type { Progress } from '../progress.js';
import type { ContentStore } from './content-store.js';
import type { FileGraph } from './file-graph.js';

/**
 * A source that is a file tree rather than an image (a root filesystem directory): it has no
 * blobs to open, it fills the graph itself. Chosen by `kind`, beside oci/transport.ts's
 * ImageSource, so no stage asks an image for a tree or a tree for a blob.
 */
export interface TreeSource {
  readonly kind: 'tree';
  readonly name: string;
  /** The image the tree stands for: no layers, and a config of what the tree cannot say itself. */
  resolve(platform: Platform): Promise<ResolvedImage>;
  loadTree(graph: FileGraph, store: ContentStore, progress: Progress): Promise<void>;
  close(): Promise<void>;
}
