/**
 * Where directory entries go. Component layers hold files; a strategy decides which layers also
 * carry which directories (see GUIDE.md section 2: implied parents shadow lower directories).
 * Strategies are pure functions of paths: they never look at metadata or contents.
 */
export interface LayerPaths {
  /** Non-directory paths of the layer. */
  files: string[];
  /** Directory entries the layer carries, with their true metadata. */
  dirs: string[];
  /** Why the layer exists, for history and annotations. */
  components: string[];
  /** Paths of lower layers the layer hides (`.wh.` entries; --keep-base's deletions). */
  whiteouts?: string[];
}

export type ParentDirMode = 'top-layer' | 'every-layer' | 'delegate';

export interface ParentDirStrategy {
  readonly mode: ParentDirMode;
  /** Extra layers the strategy may add beyond the component layers (counted in --max-layers). */
  readonly extraLayers: number;
  /**
   * Component layers (files only, bottom first) and every directory of the image ('.' first when
   * the root has an entry; parents before children) in, the image's layers bottom first out.
   */
  place(componentLayers: LayerPaths[], allDirs: string[]): LayerPaths[];
}

/** Name of the layer that holds directories no component layer carries. */
export const SKELETON_LAYER = 'directories';

/** The directories above a path, nearest first: 'a/b/c' -> 'a/b', 'a', then '.'. */
export function* ancestors(path: string): Generator<string> {
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) yield path.slice(0, i);
  if (path !== '.') yield '.';
}

/** Directories in byte order, '.' first (the order layerEntries also uses). */
export function sortDirs(dirs: Iterable<string>): string[] {
  const all = new Set(dirs);
  const sorted = [...all].filter((d) => d !== '.').sort();
  return all.has('.') ? ['.', ...sorted] : sorted;
}
