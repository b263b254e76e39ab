/**
 * Which component owns each file: the one place where PRIORITY (claim-source.ts) is applied.
 *
 * A hardlink set is never split (a split set is duplicated data, chunkah #146): all its paths go
 * to the best claim of its first path in byte order that has one; a set for which no path source
 * claims any path is one unit for the unit rules and the remainder, named after its first path.
 */
import { byteOrder } from '../util/byte-order.js';
import type { Claim, ClaimSource, RemainderRule, Unit, UnitClaimSource } from './claim-source.js';
import type { TreeView } from './types.js';

export interface ClaimRules {
  paths: readonly ClaimSource[];
  units: readonly UnitClaimSource[];
  remainder: RemainderRule;
}

/** What one component owns: its non-directory paths (unsorted) and their size, each hardlink set once. */
export interface Ownership {
  claim: Claim;
  paths: string[];
  size: number;
}

export interface Resolution {
  /** By component name, in the order components were first met. */
  owners: Map<string, Ownership>;
  /** Paths with two different claims of one priority (two packages listing a file), byte order. */
  contested: string[];
  /** Hardlink sets whose paths were claimed by different components, each kept whole anyway. */
  splitSets: number;
}

const isRegular = (t: string): boolean => t === 'file' || t === 'hardlink';

function outranks(a: Claim, b: Claim): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  if (a.tieKey !== b.tieKey) return a.tieKey < b.tieKey;
  return a.component < b.component;
}

/** The claim that wins among `claims`, by priority, then tie key, then component name. */
export function bestClaim(claims: Iterable<Claim>): Claim | undefined {
  let best: Claim | undefined;
  for (const c of claims) if (best === undefined || outranks(c, best)) best = c;
  return best;
}

export function resolveClaims(tree: TreeView, rules: ClaimRules): Resolution {
  const owners = new Map<string, Ownership>();
  // Paths go straight to their owner: a unit object per file would be most of this stage's
  // memory on a large image (250,000 files), and only units nothing claims by path need one.
  const assign = (claim: Claim, members: readonly string[], size: number): void => {
    const o = owners.get(claim.component);
    if (o === undefined) owners.set(claim.component, { claim, paths: [...members], size });
    else {
      for (const m of members) o.paths.push(m);
      o.size += size;
    }
  };
  const contested: string[] = [];
  const ownerOf = (path: string): Claim | undefined => {
    const claims = rules.paths.flatMap((s) => s.claimsFor(path));
    const tie = (c: Claim, i: number): boolean =>
      claims.some((d, j) => j < i && d.priority === c.priority && d.component !== c.component);
    if (claims.length > 1 && claims.some(tie)) contested.push(path);
    return bestClaim(claims);
  };

  // Only hardlink sets are met more than once (at each of their paths).
  const doneLinks = new Set<string>();
  const left: Unit[] = [];
  let splitSets = 0;
  for (const path of tree.paths()) {
    const node = tree.lookup(path);
    if (node === undefined || node.type === 'dir') continue;
    const linked = node.links.length > 1;
    if (linked && doneLinks.has(path)) continue;
    const members = linked ? unitOf(tree, path, node.links) : [path];
    let size = 0;
    for (const m of members) {
      if (linked) doneLinks.add(m);
      const n = m === path ? node : tree.lookup(m)!;
      if (isRegular(n.type)) size = Math.max(size, n.size);
    }
    const claims = members.map(ownerOf);
    const first = claims.find((c) => c !== undefined);
    if (first !== undefined) {
      if (claims.some((c) => c !== undefined && c.component !== first.component)) splitSets++;
      assign(first, members, size);
      continue;
    }
    const unit = { members, size };
    const byUnit = bestClaim(rules.units.flatMap((r) => r.claimFor(unit) ?? []));
    if (byUnit !== undefined) assign(byUnit, members, size);
    else left.push(unit);
  }
  for (const { claim, units } of rules.remainder(left)) for (const u of units) assign(claim, u.members, u.size);
  return { owners, contested: contested.sort(byteOrder), splitSets };
}

/** The hardlink set of `path`, restricted to non-directory paths the tree has, byte order. */
function unitOf(tree: TreeView, path: string, links: readonly string[]): string[] {
  const set = new Set<string>([path]);
  for (const l of links) {
    const n = tree.lookup(l);
    if (n !== undefined && n.type !== 'dir') set.add(l);
  }
  return [...set].sort(byteOrder);
}
