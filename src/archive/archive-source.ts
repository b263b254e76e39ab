import type { Readable } from 'node:stream';
import type { Descriptor, Platform } from '../oci/types.js';
import type { ImageSource, ResolvedImage, StoredManifest } from '../oci/transport.js';
import { LayoutSource } from '../layout/layout-source.js';
import { extractLayout } from './extract-layout.js';
import { defaultWorkParent, makeWorkDir, removeWorkDir } from '../util/work-dir.js';

/**
 * `oci-archive:FILE[:TAG]`: a tar of an OCI layout (skopeo's oci-archive transport). The layout's
 * files are extracted into a private temp dir on first use (see extractLayout) and read from
 * there by LayoutSource; close() removes the temp dir.
 */
export class ArchiveSource implements ImageSource {
  readonly kind = 'image' as const;
  private layout: Promise<LayoutSource> | undefined;
  private tmp: string | undefined;

  constructor(
    readonly name: string,
    private readonly file: string,
    private readonly tag?: string,
    /** --work-dir; else where work directories go by default. */
    private readonly tmpParent: string = defaultWorkParent(),
  ) {}

  /** The extracted layout, made once. Extraction is lazy so a failed open leaves no temp dir. */
  private open(): Promise<LayoutSource> {
    this.layout ??= (async () => {
      const tmp = await makeWorkDir(this.tmpParent, 'rechunker-archive-');
      this.tmp = tmp;
      try {
        await extractLayout(this.file, tmp, this.name);
      } catch (e) {
        this.tmp = undefined;
        await removeWorkDir(tmp);
        throw e;
      }
      return new LayoutSource(this.name, tmp, this.tag);
    })();
    return this.layout;
  }

  async resolve(platform: Platform): Promise<ResolvedImage> {
    return (await this.open()).resolve(platform);
  }

  async readTop(platform: Platform): Promise<StoredManifest> {
    return (await this.open()).readTop(platform);
  }

  async readManifest(desc: Descriptor): Promise<StoredManifest> {
    return (await this.open()).readManifest(desc);
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    return (await this.open()).openBlob(desc);
  }

  async close(): Promise<void> {
    await this.layout?.catch(() => {});
    if (this.tmp) await removeWorkDir(this.tmp);
    this.tmp = undefined;
  }
}
