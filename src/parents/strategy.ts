/**
 * Where directory entries go. Component layers hold files; a strategy decides which layers also
 * carry which directories (see GUIDE.md section 2: implied parents shadow lower directories).
 */
export interface LayerPaths {
  /** Non-directory paths of the layer. */
  files: string[];
  /** Directory entries the layer carries, with their true metadata. */
  dirs: string[];
  /** Why the layer exists, for history and annotations. */
  components: string[];
}

export type ParentDirMode = 'top-layer';

export interface ParentDirStrategy {
  readonly mode: ParentDirMode;
  /** Extra layers the strategy needs beyond the component layers (counted in --max-layers). */
  readonly extraLayers: number;
  place(componentLayers: LayerPaths[], allDirs: string[]): LayerPaths[];
}
