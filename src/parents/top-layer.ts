import { SKELETON_LAYER, type LayerPaths, type ParentDirStrategy } from './strategy.js';

/**
 * Component layers carry no directory entries; one last layer carries every directory with its
 * true metadata. Overlay runtimes take a merged directory's metadata from the uppermost layer that
 * has it and OCI unpackers apply the last layer last, so every runtime shows the true metadata,
 * and a directory's mtime changing touches only this small layer.
 */
export const topLayer: ParentDirStrategy = {
  mode: 'top-layer',
  extraLayers: 1,
  place(componentLayers, allDirs) {
    const dirLayer: LayerPaths = { files: [], dirs: allDirs, components: [SKELETON_LAYER] };
    return [...componentLayers.map((l) => ({ ...l, dirs: [] })), dirLayer];
  },
};
