/**
 * Rule 5 of PRIORITY: a regular file (or hardlink set) of at least `minBytes` that no path source
 * claims becomes its own 'bigfile:PATH' component, so that a model or a blob copied into the image
 * sits in a layer of its own instead of making a mixed layer large and volatile.
 */
import { PRIORITY, type Claim, type ComponentFacts, type Unit, type UnitClaimSource } from './claim-source.js';
import type { TreeView } from './types.js';

const FACTS: ComponentFacts = { kind: 'bigfile' };

export function bigFileSource(tree: TreeView, minBytes: number): UnitClaimSource {
  return {
    claimFor(unit: Unit): Claim | undefined {
      if (unit.size < minBytes) return undefined;
      if (!unit.members.some((m) => isRegular(tree.lookup(m)?.type))) return undefined;
      return { component: `bigfile:${unit.members[0]}`, priority: PRIORITY.bigFile, tieKey: '', facts: FACTS };
    },
  };
}

const isRegular = (t: string | undefined): boolean => t === 'file' || t === 'hardlink';
