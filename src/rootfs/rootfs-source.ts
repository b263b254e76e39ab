import { promises as fs } from 'node:fs';
import type { Progress } from '../progress.js';
import { RechunkerError } from '../errors.js';
import type { ContentStore } from '../graph/content-store.js';
import type { FileGraph } from '../graph/file-graph.js';
import type { TreeSource } from '../graph/tree-source.js';
import { describeBytes, sha256 } from '../oci/digest.js';
import type { ResolvedImage } from '../oci/transport.js';
import { MediaType, type ImageConfig, type Manifest, type Platform } from '../oci/types.js';
import { loadRootfs, type LoadRootfsOptions } from './load-rootfs.js';

export type RootfsSourceOptions = Pick<LoadRootfsOptions, 'oneFileSystem' | 'jobs'>;

/**
 * The image a root filesystem stands for: no layers, and a config that says only what the
 * directory cannot (os and architecture, from the platform asked for). No `created`, no history:
 * nothing here depends on the clock, so the same tree always gives the same image.
 */
export function syntheticImage(platform: Platform): ResolvedImage {
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    rootfs: { type: 'layers', diff_ids: [] },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc = describeBytes(MediaType.OciConfig, configBytes);
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: [] };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { manifest, manifestBytes, manifestDigest: sha256(manifestBytes), config, configBytes };
}

/**
 * `rootfs:DIR`: a root filesystem directory (the output of a bootc build stage) as an image
 * tree source. It has no blobs; loadTree walks the directory into the graph (see loadRootfs): nothing
 * is followed, and a mount point of another filesystem is kept as an empty directory, like
 * `tar --one-file-system`, so /proc, /sys or /dev mounted in a build stage are not read.
 */
export class RootfsSource implements TreeSource {
  readonly kind = 'tree' as const;

  constructor(
    readonly name: string,
    readonly dir: string,
    private readonly opts: RootfsSourceOptions = {},
  ) {}

  async resolve(platform: Platform): Promise<ResolvedImage> {
    let isDir: boolean;
    try {
      isDir = (await fs.stat(this.dir)).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new RechunkerError(
        code === 'ENOENT' ? 'NOT_FOUND' : 'IO',
        `${this.name}: cannot read the directory: ${code ?? String(e)}`,
        { cause: e },
      );
    }
    if (!isDir) throw new RechunkerError('NOT_FOUND', `${this.name}: not a directory`);
    return syntheticImage(platform);
  }

  async loadTree(graph: FileGraph, store: ContentStore, progress: Progress): Promise<void> {
    await loadRootfs(this.dir, graph, store, { ...this.opts, where: this.name, progress });
  }

  async close(): Promise<void> {}
}
