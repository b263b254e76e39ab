import type { Readable } from 'node:stream';
import { RechunkerError } from '../errors.js';
import { formatPlatform, platformMatches } from '../oci/platform.js';
import { fetchDescribed, MAX_MANIFEST_BYTES, resolveFromDescriptor } from '../oci/resolve.js';
import { describesImage, RefNameAnnotation, type Descriptor, type Platform } from '../oci/types.js';
import type { ImageSource, ResolvedImage, StoredManifest } from '../oci/transport.js';
import { OciLayout } from './oci-layout.js';

/** Reads one image out of an OCI layout, chosen by tag, digest, or as the layout's only image. */
export class LayoutSource implements ImageSource {
  readonly kind = 'image' as const;
  private readonly layout: OciLayout;

  constructor(
    readonly name: string,
    dir: string,
    private readonly tag?: string,
    private readonly digest?: string,
  ) {
    this.layout = new OciLayout(dir);
  }

  async resolve(platform: Platform): Promise<ResolvedImage> {
    const top = await this.pickTop(platform);
    return resolveFromDescriptor(
      top,
      (d, limit, kind) => this.layout.readBlob(d, limit, `${kind} ${d.digest}`),
      platform,
      this.name,
    );
  }

  async readTop(platform: Platform): Promise<StoredManifest> {
    return this.readManifest(await this.pickTop(platform));
  }

  readManifest(desc: Descriptor): Promise<StoredManifest> {
    const read = (d: Descriptor) => this.layout.readBlob(d, MAX_MANIFEST_BYTES, `manifest ${d.digest}`);
    return fetchDescribed(desc, read, this.name);
  }

  private async pickTop(platform: Platform): Promise<Descriptor> {
    const { manifests } = await this.layout.readIndex();
    let candidates: Descriptor[];
    if (this.digest) {
      candidates = manifests.filter((m) => m.digest === this.digest);
      // A digest not listed in index.json may still name a blob of the layout.
      if (candidates.length === 0 && (await this.layout.hasBlob(this.digest))) {
        candidates = [{ mediaType: '', digest: this.digest, size: await this.layout.blobSize(this.digest) }];
      }
    } else {
      const named =
        this.tag === undefined ? manifests : manifests.filter((m) => m.annotations?.[RefNameAnnotation] === this.tag);
      candidates = named.filter(describesImage);
      if (candidates.length === 0 && named.length > 0) {
        throw new RechunkerError(
          'UNSUPPORTED',
          `${this.name}: ${this.tag !== undefined ? `tag "${this.tag}"` : 'the layout'} names a ${named[0]!.mediaType}, not an image manifest or index`,
        );
      }
    }
    if (candidates.length === 0) {
      const tags = manifests.map((m) => m.annotations?.[RefNameAnnotation]).filter(Boolean);
      const what = this.digest ?? (this.tag !== undefined ? `tag "${this.tag}"` : 'any image');
      throw new RechunkerError(
        'NOT_FOUND',
        `${this.name}: no ${what} in the layout (tags: ${tags.join(', ') || 'none'})`,
      );
    }
    if (candidates.length === 1) return candidates[0]!;
    // Several entries under one name: a multi-platform layout written flat into index.json.
    const forPlatform = candidates.filter((m) => platformMatches(platform, m.platform));
    if (forPlatform.length === 1) return forPlatform[0]!;
    // The same manifest listed twice is still one image.
    if (new Set(candidates.map((m) => m.digest)).size === 1) return candidates[0]!;
    if (this.tag !== undefined) {
      throw new RechunkerError(
        'NOT_FOUND',
        `${this.name}: index.json gives tag "${this.tag}" to ${candidates.length} manifests, and not to one alone for ` +
          `${formatPlatform(platform)}; name the image by its digest (oci:DIR@sha256:...)`,
      );
    }
    const tags = [...new Set(candidates.map((m) => m.annotations?.[RefNameAnnotation] ?? m.digest))];
    throw new RechunkerError(
      'NOT_FOUND',
      `${this.name}: the layout holds several images (${tags.join(', ')}); name one with oci:DIR:TAG`,
    );
  }

  openBlob(desc: Descriptor): Promise<Readable> {
    return this.layout.openBlob(desc);
  }

  async close(): Promise<void> {}
}
