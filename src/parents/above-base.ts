import { ancestors, type LayerPaths, sortDirs } from './strategy.js';

/** The layer that holds --keep-base's whiteouts, right above the kept layers. */
export const WHITEOUT_LAYER = 'whiteouts';

/**
 * The directories the layers above a kept base must carry: the ones that changed, and every one
 * above a path those layers write or hide. Any other directory is left to the base, whose layers
 * show it as it is; one of these left out would be implied by a new layer and shadow the base's.
 * `allDirs` are the image's defined directories; an implied one stays implied.
 */
export function dirsAboveBase(
  changedDirs: readonly string[],
  written: Iterable<string>,
  allDirs: readonly string[],
): string[] {
  const known = new Set(allDirs);
  const needed = new Set<string>();
  const add = (d: string) => {
    if (known.has(d)) needed.add(d);
  };
  for (const d of changedDirs) add(d);
  for (const p of [...changedDirs, ...written]) for (const a of ancestors(p)) add(a);
  return sortDirs(needed);
}

/**
 * One layer of whiteouts, with an entry of true metadata for each directory above them: under
 * every strategy, so no layer ever implies a directory over the base's.
 */
export function whiteoutLayer(whiteouts: readonly string[], allDirs: readonly string[]): LayerPaths {
  const known = new Set(allDirs);
  const dirs = new Set<string>();
  for (const w of whiteouts) for (const a of ancestors(w)) if (known.has(a)) dirs.add(a);
  return { files: [], dirs: sortDirs(dirs), components: [WHITEOUT_LAYER], whiteouts: [...whiteouts] };
}
