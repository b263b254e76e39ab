/**
 * What a client holding one image downloads to get the next, from the two manifests' layer lists.
 * Pure. Two models of reuse:
 *  - blob: a layer is reused when a blob with its digest is present (registries, containers/image,
 *    ostree);
 *  - chain: a layer is reused only when it and every layer below it are the same (moby's chain IDs).
 */
export interface LayerRef {
  digest: string;
  /** Compressed bytes, as the manifest says. */
  size: number;
}

export interface UpdateCost {
  layers: number;
  imageBytes: number;
  /** Bytes downloaded with blob reuse, and layers reused (count and bytes). */
  blobDownload: number;
  blobReusedLayers: number;
  blobReusedBytes: number;
  /** Bytes downloaded with chain reuse, and layers reused. */
  chainDownload: number;
  chainReusedLayers: number;
}

export function updateCost(from: readonly LayerRef[], to: readonly LayerRef[]): UpdateCost {
  const have = new Set(from.map((l) => l.digest));
  let blobDownload = 0;
  let blobReusedLayers = 0;
  let blobReusedBytes = 0;
  let chainDownload = 0;
  let chainReusedLayers = 0;
  let chainIntact = true;
  to.forEach((l, i) => {
    if (have.has(l.digest)) {
      blobReusedLayers++;
      blobReusedBytes += l.size;
    } else blobDownload += l.size;
    chainIntact = chainIntact && from[i]?.digest === l.digest;
    if (chainIntact) chainReusedLayers++;
    else chainDownload += l.size;
  });
  return {
    layers: to.length,
    imageBytes: to.reduce((s, l) => s + l.size, 0),
    blobDownload,
    blobReusedLayers,
    blobReusedBytes,
    chainDownload,
    chainReusedLayers,
  };
}

/**
 * The lower bound from an image built as `from` plus diff layers: the compressed size of the
 * layers `to` has beyond `from`'s (only the files that changed, with their whiteouts), which is
 * what blob reuse downloads.
 */
export function diffLayerBytes(from: readonly LayerRef[], to: readonly LayerRef[]): number {
  return updateCost(from, to).blobDownload;
}
