import { ancestors, SKELETON_LAYER, sortDirs, type LayerPaths, type ParentDirStrategy } from './strategy.js';

/**
 * Each directory is defined once, in the lowest layer that holds anything below it; directories
 * with nothing below them (empty ones) are defined, with their parents, in a bottom skeleton
 * layer. Every layer above leaves the directory implied. An unpacker with dirmeta_delegate
 * (containers/container-libs PR #701) marks such implied directories with
 * `trusted.overlay.dirmeta_delegate` and overlayfs takes their metadata from the defining layer
 * below; every other runtime shows them with default metadata (see shadowedDirs, which counts
 * them, and `rechunker verify --model overlay`, which lists them).
 */
export const delegate: ParentDirStrategy = {
  mode: 'delegate',
  extraLayers: 1,
  place(componentLayers, allDirs) {
    const known = new Set(allDirs);
    const belowSomething = new Set<string>();
    for (const l of componentLayers) for (const f of l.files) for (const a of ancestors(f)) belowSomething.add(a);
    const empty = allDirs.filter((d) => !belowSomething.has(d));
    const layers: LayerPaths[] = componentLayers.map((l) => ({ ...l, dirs: [] }));
    if (empty.length > 0) layers.unshift({ files: [], dirs: empty, components: [SKELETON_LAYER] });

    const defined = new Set<string>();
    return layers.map((l) => {
      const dirs = new Set<string>();
      const define = (d: string) => {
        if (defined.has(d) || !known.has(d)) return;
        defined.add(d);
        dirs.add(d);
      };
      for (const d of l.dirs) {
        define(d);
        for (const a of ancestors(d)) define(a);
      }
      for (const f of l.files) for (const a of ancestors(f)) define(a);
      return { ...l, dirs: sortDirs(dirs) };
    });
  },
};
