import { RechunkerError } from '../errors.js';
import { delegate } from './delegate.js';
import { everyLayer } from './every-layer.js';
import type { ParentDirMode, ParentDirStrategy } from './strategy.js';
import { topLayer } from './top-layer.js';

export { shadowedDirs } from './shadowed.js';
export { dirsAboveBase, whiteoutLayer, WHITEOUT_LAYER } from './above-base.js';

export const DEFAULT_PARENT_DIR_MODE: ParentDirMode = 'top-layer';

const STRATEGIES: Record<ParentDirMode, ParentDirStrategy> = {
  'top-layer': topLayer,
  'every-layer': everyLayer,
  delegate,
};

export const PARENT_DIR_MODES: readonly ParentDirMode[] = ['top-layer', 'every-layer', 'delegate'];

export function parentDirStrategy(mode: string): ParentDirStrategy {
  const s = STRATEGIES[mode as ParentDirMode];
  if (!s)
    throw new RechunkerError('USAGE', `unknown --parent-dirs mode "${mode}" (one of ${PARENT_DIR_MODES.join(', ')})`);
  return s;
}

/** `--dir-mtime`: keep every directory's true mtime, or clamp them all to DIR_MTIME_CLAMP. */
export type DirMtimeMode = 'keep' | 'clamp';
export const DIR_MTIME_MODES: readonly DirMtimeMode[] = ['keep', 'clamp'];

/**
 * The mtime `--dir-mtime clamp` gives every directory: 0 (1970-01-01), as ostree gives every
 * object. A fixed value, not SOURCE_DATE_EPOCH: that moves with every build, and would change
 * every layer holding a directory each time, which is what clamping is meant to prevent.
 */
export const DIR_MTIME_CLAMP = 0;

/** What --dir-mtime clamp costs, as one line for the user. */
export function dirMtimeCost(lost: number, total: number, mode: ParentDirMode): string {
  const why =
    mode === 'every-layer'
      ? 'so that layers holding the same directories stay identical across updates'
      : `which buys nothing in ${mode} mode, where each directory has one entry`;
  return `--dir-mtime clamp: ${lost} of ${total} directories lose their true mtime (set to 1970-01-01), ${why}`;
}

/** The warning every delegate run prints. */
export function delegateWarning(shadowed: number): string {
  const one = shadowed === 1;
  return (
    `--parent-dirs delegate: ${shadowed} director${one ? 'y is' : 'ies are'} left implied above the layer that ` +
    `defines ${one ? 'it' : 'them'}; runtimes without dirmeta_delegate (containers/container-libs PR #701, not in ` +
    `any released kernel) show ${one ? 'it' : 'them'} with default metadata (0755, root, time of unpacking); ` +
    '`rechunker verify --model overlay` lists them'
  );
}
