/**
 * A package's list is taken to include the bytecode caches of its Python files
 * (`d/__pycache__/m.*.pyc` next to a listed `d/m.py`): py3compile writes them from the package's
 * postinst, they change exactly when the .py does, and on Debian they are most of what no list
 * names (11.6 of 14 MB unclaimed in the corpus without this).
 */
import { PRIORITY, type Claim, type ClaimSource } from './claim-source.js';
import { bestClaim } from './resolve-claims.js';

const PYC = /^(.*)\/__pycache__\/([^/.]+)\.[^/]*\.pyc$/;

/** `lists`: the package managers' claim sources; the .py goes to the package that wins it there. */
export function pycacheClaims(lists: readonly ClaimSource[]): ClaimSource {
  const derived = new Map<Claim, Claim>();
  return {
    claimsFor(path) {
      const m = PYC.exec(path);
      if (m === null) return [];
      const owner = bestClaim(lists.flatMap((s) => s.claimsFor(`${m[1]}/${m[2]}.py`)).filter(isListed));
      if (owner === undefined) return [];
      let c = derived.get(owner);
      if (c === undefined) {
        c = { ...owner, priority: PRIORITY.pycache };
        derived.set(owner, c);
      }
      return [c];
    },
  };
}

/** dpkg's source also answers for its info files, which are not list entries. */
const isListed = (c: Claim): boolean => c.priority === PRIORITY.packageList;
