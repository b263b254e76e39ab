import { RechunkerError } from '../errors.js';
import type { ParentDirMode, ParentDirStrategy } from './strategy.js';
import { topLayer } from './top-layer.js';

export const DEFAULT_PARENT_DIR_MODE: ParentDirMode = 'top-layer';

const STRATEGIES: Record<ParentDirMode, ParentDirStrategy> = {
  'top-layer': topLayer,
};

export const PARENT_DIR_MODES = Object.keys(STRATEGIES) as ParentDirMode[];

export function parentDirStrategy(mode: string): ParentDirStrategy {
  const s = STRATEGIES[mode as ParentDirMode];
  if (!s) throw new RechunkerError('USAGE', `unknown --parent-dirs mode "${mode}" (one of ${PARENT_DIR_MODES.join(', ')})`);
  return s;
}
