import { ancestors, SKELETON_LAYER, sortDirs, type LayerPaths, type ParentDirStrategy } from './strategy.js';

/**
 * Every layer carries an entry, with true metadata, for every directory above what it holds (what
 * chunkah and rpm-ostree --format-version=2 do). Exact on every runtime, since no layer implies a
 * directory; but a directory's metadata now lives in every layer below it, so one changed
 * directory mtime (an OS update touches usr/, usr/share/doc...) changes every such layer.
 * `--dir-mtime clamp` buys the reuse back at the price of the true directory mtimes.
 *
 * Directories with no file below them (empty ones) go, with their parents, in a bottom layer.
 */
export const everyLayer: ParentDirStrategy = {
  mode: 'every-layer',
  extraLayers: 1,
  place(componentLayers, allDirs) {
    const known = new Set(allDirs);
    const covered = new Set<string>();
    const layers = componentLayers.map((l): LayerPaths => {
      const dirs = new Set<string>();
      for (const f of l.files) {
        for (const a of ancestors(f)) {
          if (dirs.has(a)) break; // the rest of the chain is already in
          if (known.has(a)) dirs.add(a);
        }
      }
      for (const d of dirs) covered.add(d);
      return { ...l, dirs: sortDirs(dirs) };
    });
    const rest = new Set<string>();
    for (const d of allDirs) {
      if (covered.has(d)) continue;
      rest.add(d);
      for (const a of ancestors(d)) if (known.has(a)) rest.add(a);
    }
    if (rest.size === 0) return layers;
    return [{ files: [], dirs: sortDirs(rest), components: [SKELETON_LAYER] }, ...layers];
  },
};
