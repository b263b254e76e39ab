import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClaimTable, PRIORITY, type Claim, type RemainderRule } from '../../src/components/claim-source.js';
import { bestClaim, resolveClaims } from '../../src/components/resolve-claims.js';
import { MapTree } from '../helpers/map-tree.js';

const claim = (component: string, priority: number, tieKey = component): Claim => ({
  component,
  priority,
  tieKey,
  facts: { kind: 'deb' },
});
const table = (entries: [string, Claim][]): ClaimTable => {
  const t = new ClaimTable();
  for (const [p, c] of entries) t.add(p, c);
  return t;
};
const rest: RemainderRule = (units) =>
  units.length === 0 ? [] : [{ claim: claim('unclaimed', PRIORITY.unclaimed), units }];
const owners = (r: ReturnType<typeof resolveClaims>): Record<string, string[]> =>
  Object.fromEntries([...r.owners].map(([name, o]) => [name, o.paths]));

describe('resolveClaims', () => {
  it('orders claims by priority, then tie key, then component name, whatever the order they come in', () => {
    const x = claim('xattr:a', PRIORITY.xattr);
    const z = claim('deb:z', PRIORITY.packageList, 'a-pkg');
    const b = claim('deb:b', PRIORITY.packageList, 'b-pkg');
    const db = claim('pkgdb', PRIORITY.database);
    assert.equal(bestClaim([db, b, z, x]), x);
    assert.equal(bestClaim([b, db, z]), z, 'the tie key decides before the component name');
    assert.equal(bestClaim([claim('deb:y', 20, 'k'), claim('deb:x', 20, 'k')])?.component, 'deb:x');
    assert.equal(bestClaim([]), undefined);
  });

  it('applies the higher priority across sources and reports ties of one priority as contested', () => {
    const tree = new MapTree([{ path: 'a' }, { path: 'b' }, { path: 'c' }]);
    const lists = table([
      ['a', claim('deb:one', PRIORITY.packageList)],
      ['a', claim('deb:two', PRIORITY.packageList)],
      ['b', claim('deb:two', PRIORITY.packageList)],
    ]);
    const xattr = table([['b', claim('xattr:k', PRIORITY.xattr)]]);
    const r = resolveClaims(tree, { paths: [lists, xattr], units: [], remainder: rest });
    assert.deepEqual(owners(r), { 'deb:one': ['a'], 'xattr:k': ['b'], unclaimed: ['c'] });
    assert.deepEqual(r.contested, ['a']);
    assert.equal(r.splitSets, 0);
  });

  it('gives a hardlink set to its first claimed path, and unit rules only see sets nobody claimed', () => {
    const tree = new MapTree([
      { path: 'x/a', size: 9, links: ['x/b', 'x/c'] },
      { path: 'x/b', size: 9 },
      { path: 'x/c', size: 9 },
      { path: 'y/a', size: 7, links: ['y/b'] },
      { path: 'y/b', size: 7 },
    ]);
    // x/a has no claim; x/b's (low priority) decides even though x/c has a higher one.
    const paths = table([
      ['x/b', claim('pkgdb', PRIORITY.database)],
      ['x/c', claim('xattr:k', PRIORITY.xattr)],
    ]);
    const seen: string[][] = [];
    const big = {
      claimFor: (u: { members: string[] }) => {
        seen.push(u.members);
        return claim(`bigfile:${u.members[0]}`, PRIORITY.bigFile);
      },
    };
    const r = resolveClaims(tree, { paths: [paths], units: [big], remainder: rest });
    assert.deepEqual(owners(r), { pkgdb: ['x/a', 'x/b', 'x/c'], 'bigfile:y/a': ['y/a', 'y/b'] });
    assert.equal(r.splitSets, 1);
    assert.deepEqual(seen, [['y/a', 'y/b']]);
    assert.equal(r.owners.get('bigfile:y/a')!.size, 7, 'a set is stored once');
  });
});
