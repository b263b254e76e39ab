/**
 * npm run bench:pack: how long our packer takes to plan 64 layers for images of many components
 * (a large Fedora or Debian desktop image has 2,000-3,000 packages), beside the chunkah-style
 * packer (src/plan/chunkah-style.ts) on the same components in the same run. Pure planning, one
 * core: components are synthetic (sizes, change probabilities and co-change groups drawn from a
 * fixed seed), so the figures are comparable from run to run.
 *
 *   node --import tsx bench/pack.ts
 */
import os from 'node:os';
import { chunkahStylePack } from '../src/plan/chunkah-style.js';
import { packFresh } from '../src/plan/pack.js';
import type { PlanComponent } from '../src/plan/plan-types.js';
import { mdRow } from './markdown.js';

function components(n: number): PlanComponent[] {
  let seed = 1;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, (_, i) => ({
    name: `pkg${String(i).padStart(5, '0')}`,
    size: Math.floor(rand() * 5e6) + 1000,
    changeProbability: rand() * 0.3,
    ...(i % 7 === 0 ? { group: `src${i % 50}` } : {}),
  }));
}

function seconds(f: () => unknown): number {
  const t = performance.now();
  f();
  return (performance.now() - t) / 1000;
}

console.log(`# planning 64 layers (${os.cpus()[0]?.model}, node ${process.version})\n`);
console.log('| components | ours | chunkah-style |');
console.log('|---|---|---|');
for (const n of [500, 1250, 2500, 5000]) {
  const c = components(n);
  console.log(
    mdRow([
      n,
      `${seconds(() => packFresh(c, 64)).toFixed(2)} s`,
      `${seconds(() => chunkahStylePack(c, 64)).toFixed(2)} s`,
    ]),
  );
}
