import { requirePlatform } from '../oci/platform.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { ImageSource, ResolvedImage } from '../oci/transport.js';

/**
 * The source, with resolve() refusing an image of another platform than the one asked for: an
 * index is already chosen from by platform, a single image was taken whatever it was built for.
 */
export function checkedPlatform(source: ImageSource): ImageSource {
  return {
    kind: 'image',
    name: source.name,
    async resolve(platform: Platform): Promise<ResolvedImage> {
      const image = await source.resolve(platform);
      requirePlatform(image.config, platform, source.name);
      return image;
    },
    openBlob: (desc) => source.openBlob(desc),
    ...(source.readTop ? { readTop: (p: Platform) => source.readTop!(p) } : {}),
    ...(source.readManifest ? { readManifest: (d: Descriptor) => source.readManifest!(d) } : {}),
    close: () => source.close(),
  };
}
