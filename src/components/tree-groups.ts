/**
 * What nothing claims is 'unclaimed', which the planner treats as volatile (logs, generated
 * caches): downloaded with every update. When that remainder is large (a hand-built tree, an image
 * without dpkg or rpm, an application copied into /opt), split it by directory subtree instead:
 * always by top-level directory, then any subtree whose files exceed the group size by its
 * subdirectories, recursively; what stays small falls back to the catch-all. Groups follow the
 * tree's shape, so they are stable from one build to the next while files stay put.
 */
import { PRIORITY, type ComponentFacts, type RemainderRule, type Unit } from './claim-source.js';

export type { Unit };

export interface TreeGroup {
  /** Directory prefix the group covers ('' for files at the root). */
  prefix: string;
  units: Unit[];
  size: number;
}

export interface TreeGroupOptions {
  /** Split only when the unclaimed total exceeds this. */
  splitAbove: number;
  /** A subtree larger than this is divided by its subdirectories. */
  maxGroup: number;
  /** Groups smaller than this go back to the catch-all. */
  minGroup: number;
}

export const DEFAULT_TREE_GROUPS: TreeGroupOptions = {
  splitAbove: 4 * 1024 * 1024,
  maxGroup: 32 * 1024 * 1024,
  minGroup: 1024 * 1024,
};

function dirParts(path: string): string[] {
  const parts = path.split('/');
  parts.pop();
  return parts;
}

/** Returns the split-out groups and the units left for the catch-all. */
export function groupByTree(
  units: readonly Unit[],
  opts: TreeGroupOptions = DEFAULT_TREE_GROUPS,
): { groups: TreeGroup[]; rest: Unit[] } {
  const total = units.reduce((n, u) => n + u.size, 0);
  if (total <= opts.splitAbove) return { groups: [], rest: [...units] };
  const groups: TreeGroup[] = [];
  const rest: Unit[] = [];
  const emit = (prefix: string, members: Unit[]) => {
    const size = members.reduce((n, u) => n + u.size, 0);
    if (size < opts.minGroup) rest.push(...members);
    else groups.push({ prefix, units: members, size });
  };
  const split = (prefix: string, depth: number, members: Unit[]) => {
    const size = members.reduce((n, u) => n + u.size, 0);
    // Never the whole remainder as one group: that would make its volatile part look stable.
    if (depth > 0 && size <= opts.maxGroup) return emit(prefix, members);
    const here: Unit[] = [];
    const below = new Map<string, Unit[]>();
    for (const u of members) {
      const parts = dirParts(u.members[0]!);
      if (parts.length <= depth) {
        here.push(u);
        continue;
      }
      const key = parts.slice(0, depth + 1).join('/');
      const list = below.get(key);
      if (list) list.push(u);
      else below.set(key, [u]);
    }
    if (below.size === 0) return emit(prefix, members); // one flat directory: nothing finer to split by
    if (here.length > 0) emit(prefix, here);
    for (const key of [...below.keys()].sort()) split(key, depth + 1, below.get(key)!);
  };
  split('', 0, [...units]);
  groups.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  return { groups, rest };
}

const SUBTREE: ComponentFacts = { kind: 'tree' };
const UNCLAIMED: ComponentFacts = { kind: 'unclaimed' };

/** Rules 6-7 of PRIORITY: 'tree:PREFIX' components for the big subtrees, 'unclaimed' for the rest. */
export function subtreeRemainder(opts: TreeGroupOptions = DEFAULT_TREE_GROUPS): RemainderRule {
  return (units) => {
    const { groups, rest } = groupByTree(units, opts);
    const out: ReturnType<RemainderRule> = groups.map((g) => ({
      claim: { component: `tree:${g.prefix || '/'}`, priority: PRIORITY.subtree, tieKey: '', facts: SUBTREE },
      units: g.units,
    }));
    if (rest.length > 0) {
      const claim = { component: 'unclaimed', priority: PRIORITY.unclaimed, tieKey: '', facts: UNCLAIMED };
      out.push({ claim, units: rest });
    }
    return out;
  };
}
