/**
 * Rule 1 of PRIORITY: a path whose `user.component` (own or inherited, see xattr.ts) is VALUE
 * belongs to 'xattr:VALUE'. `user.update-interval` claims nothing; it only annotates whichever
 * component ends up owning the path.
 */
import { PRIORITY, type Claim, type ClaimSource } from './claim-source.js';
import type { TreeView } from './types.js';
import { xattrFacts, type XattrFacts } from './xattr.js';

export interface XattrClaims extends ClaimSource {
  /** The smallest `user.update-interval` among `paths` (the most frequent change wins), if any. */
  updateIntervalDays(paths: readonly string[]): number | undefined;
}

export function xattrClaims(tree: TreeView): XattrClaims {
  const facts: Map<string, XattrFacts> = xattrFacts(tree);
  const claims = new Map<string, Claim>();
  const claimOf = (value: string): Claim => {
    let c = claims.get(value);
    if (c === undefined) {
      const component = `xattr:${value}`;
      c = { component, priority: PRIORITY.xattr, tieKey: '', facts: { kind: 'xattr', meta: { value } } };
      claims.set(value, c);
    }
    return c;
  };
  return {
    claimsFor(path) {
      const value = facts.get(path)?.component;
      return value === undefined ? [] : [claimOf(value)];
    },
    updateIntervalDays(paths) {
      let min: number | undefined;
      for (const p of paths) {
        const d = facts.get(p)?.updateIntervalDays;
        if (d !== undefined && (min === undefined || d < min)) min = d;
      }
      return min;
    },
  };
}
