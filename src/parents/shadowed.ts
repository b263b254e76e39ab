import { ancestors, type LayerPaths } from './strategy.js';

/**
 * The overlay model on paths alone: the directories a runtime without dirmeta_delegate shows with
 * default metadata (0755, root, time of unpacking). Overlay takes a merged directory's metadata
 * from the uppermost layer that has it; when that layer holds it only as the implied parent of
 * something, containers/storage made it with defaults, and it shadows the real one below.
 * Root ('.') is left out: it is the mount point, not a path of the image.
 */
export function shadowedDirs(layers: readonly LayerPaths[]): string[] {
  const decided = new Set<string>();
  const shadowed: string[] = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    for (const d of l.dirs) decided.add(d); // an entry: true metadata, from this layer
    const implied = new Set<string>();
    for (const p of [...l.files, ...l.dirs]) {
      for (const a of ancestors(p)) {
        if (a === '.' || implied.has(a)) break;
        implied.add(a);
      }
    }
    for (const a of implied) {
      if (decided.has(a)) continue;
      decided.add(a);
      shadowed.push(a);
    }
  }
  return shadowed.sort();
}
