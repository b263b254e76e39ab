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

export interface Ownership {
  claim: Claim;
  units: Unit[];
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
  const assign = (claim: Claim, unit: Unit): void => {
    const o = owners.get(claim.component);
    if (o === undefined) owners.set(claim.component, { claim, units: [unit] });
    else o.units.push(unit);
  };
  const contested: string[] = [];
  const ownerOf = (path: string): Claim | undefined => {
    const claims = rules.paths.flatMap((s) => s.claimsFor(path));
    const tie = (c: Claim, i: number): boolean =>
      claims.some((d, j) => j < i && d.priority === c.priority && d.component !== c.component);
    if (claims.length > 1 && claims.some(tie)) contested.push(path);
    return bestClaim(claims);
  };

  const done = new Set<string>();
  const left: Unit[] = [];
  let splitSets = 0;
  for (const path of tree.paths()) {
    const node = tree.lookup(path);
    if (node === undefined || node.type === 'dir' || done.has(path)) continue;
    const members = node.links.length > 1 ? unitOf(tree, path, node.links) : [path];
    let size = 0;
    for (const m of members) {
      done.add(m);
      const n = tree.lookup(m)!;
      if (isRegular(n.type)) size = Math.max(size, n.size);
    }
    const unit = { members, size };
    const claims = members.map(ownerOf);
    const first = claims.find((c) => c !== undefined);
    if (first !== undefined) {
      if (claims.some((c) => c !== undefined && c.component !== first.component)) splitSets++;
      assign(first, unit);
      continue;
    }
    const byUnit = bestClaim(rules.units.flatMap((r) => r.claimFor(unit) ?? []));
    if (byUnit !== undefined) assign(byUnit, unit);
    else left.push(unit);
  }
  for (const { claim, units } of rules.remainder(left)) for (const u of units) assign(claim, u);
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
