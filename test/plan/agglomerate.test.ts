import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agglomerate, mergeCost, mergeGroups, type Group } from '../../src/plan/pack.js';
import { byteOrder } from '../../src/util/byte-order.js';

/**
 * agglomerate keeps each candidate's best partner from step to step; it must merge exactly as
 * looking at every pair at every step does. This is that first version, kept as the reference.
 */
function referenceAgglomerate(groups: Group[], target: number): boolean {
  const prob = (g: Group) => 1 - g.keep;
  const candidateIndexes = (): number[] => {
    const all = groups.map((_, i) => i);
    if (groups.length <= 160) return all;
    const by = (f: (g: Group) => number) =>
      [...all].sort(
        (a, b) => f(groups[a]!) - f(groups[b]!) || byteOrder(groups[a]!.members[0]!, groups[b]!.members[0]!),
      );
    const bySize = by((g) => g.size);
    const byRisk = by((g) => prob(g) * g.size);
    return [...new Set([...bySize.slice(0, 64), ...byRisk.slice(0, 64)])].sort((a, b) => a - b);
  };
  const pairBefore = (i: number, j: number, bi: number, bj: number) => {
    const key = (x: number, y: number): [string, string] => {
      const a = groups[x]!.members[0]!;
      const b = groups[y]!.members[0]!;
      return a < b ? [a, b] : [b, a];
    };
    const [a1, a2] = key(i, j);
    const [b1, b2] = key(bi, bj);
    return a1 < b1 || (a1 === b1 && a2 < b2);
  };
  for (const g of groups) g.members.sort(byteOrder);
  for (;;) {
    const candidates = candidateIndexes();
    let best: { i: number; j: number; cost: number } | undefined;
    for (let i = 0; i < groups.length; i++) {
      for (const j of candidates) {
        if (j === i || (groups[i]!.fixed && groups[j]!.fixed)) continue;
        const cost = mergeCost(groups[i]!, groups[j]!);
        if (best === undefined || cost < best.cost || (cost === best.cost && pairBefore(i, j, best.i, best.j)))
          best = { i, j, cost };
      }
    }
    if (best === undefined) return groups.length <= target;
    if (groups.length <= target && best.cost >= 0) return true;
    const merged = mergeGroups(groups[best.i]!, groups[best.j]!);
    groups.splice(Math.max(best.i, best.j), 1);
    groups.splice(Math.min(best.i, best.j), 1, merged);
  }
}

function randomGroups(seed: number): { groups: Group[]; target: number } {
  let s = seed;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const n = pick([1, 2, 5, 40, 150, 161, 170, 250]);
  const groups: Group[] = [];
  for (let k = 0; k < n; k++) {
    // Few distinct sizes, probabilities and histories, so that costs tie and names decide.
    const g: Group = {
      members: [`c${String(k).padStart(3, '0')}`],
      size: pick([0, 1000, 1000, 5000, 123_456, 2e6, Math.floor(rand() * 1e7)]),
      keep: 1 - pick([0, 0.05, 0.05, 0.2, 0.5, 1, rand()]),
      fixed: rand() < 0.15,
      clean: false,
      history: pick(['', '', '01', '10', '0110', '1111', '0001']),
    };
    if (g.fixed) {
      g.clean = rand() < 0.5;
      g.priorIndex = Math.floor(rand() * 64);
    }
    if (rand() < 0.2) g.key = pick(['src:a', 'src:b', 'src:c']);
    groups.push(g);
  }
  return { groups, target: pick([1, 3, 16, 64, 300]) };
}

test('merges exactly as looking at every pair at every step, on 120 random inputs', () => {
  for (let seed = 1; seed <= 120; seed++) {
    const a = randomGroups(seed);
    const b = randomGroups(seed);
    const fits = agglomerate(a.groups, a.target);
    const expected = referenceAgglomerate(b.groups, b.target);
    assert.equal(fits, expected, `seed ${seed}: the same answer`);
    assert.deepEqual(a.groups, b.groups, `seed ${seed}: the same groups in the same order`);
  }
});
