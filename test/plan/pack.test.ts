import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Component } from '../../src/components/types.js';
import { planLayers } from '../../src/plan/plan-layers.js';
import type { Plan } from '../../src/plan/plan-types.js';
import { parsePlanLabel } from '../../src/plan/recorded-plan.js';

const DAY = 86400;
const NOW = 1_750_000_000;

/** A deb component whose changelog has `perYear` entries a year over the last three years. */
function deb(name: string, size: number, perYear: number): Component {
  const times = Array.from({ length: perYear * 3 }, (_, i) => NOW - Math.round((i * 365 * DAY) / Math.max(1, perYear)));
  return { name: `deb:${name}`, kind: 'deb', paths: [], size, meta: { changeTimes: times } };
}

function synthetic(n: number): Component[] {
  const out: Component[] = [];
  for (let i = 0; i < n; i++)
    out.push(deb(`pkg${String(i).padStart(3, '0')}`, 10_000 + ((i * 7919) % 97) * 50_000, i % 5));
  out.push({ name: 'pkgdb', kind: 'pkgdb', paths: [], size: 5_000_000 });
  out.push({ name: 'unclaimed', kind: 'unclaimed', paths: [], size: 700_000 });
  return out;
}

const fps = (cs: Component[], changed: Set<string> = new Set()) =>
  new Map(cs.map((c) => [c.name, changed.has(c.name) ? `x-${c.name}` : `fp-${c.name}`]));

function placement(plan: Plan): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of plan.layers) for (const n of l.components) m.set(n, l.components.join(','));
  return m;
}

function assertPartition(plan: Plan, comps: Component[]): void {
  const seen = new Map<string, number>();
  for (const l of plan.layers) for (const n of l.components) seen.set(n, (seen.get(n) ?? 0) + 1);
  assert.equal(seen.size, comps.length);
  for (const c of comps) assert.equal(seen.get(c.name), 1, `${c.name} in exactly one layer`);
}

describe('planLayers (ours)', () => {
  const comps = synthetic(150);

  it('respects the layer budget and never splits a component', () => {
    for (const budget of [1, 2, 7, 31, 63, 200]) {
      const plan = planLayers({
        components: comps,
        layerBudget: budget,
        maxLayers: budget + 1,
        fingerprints: fps(comps),
      });
      assert.ok(plan.layers.length <= budget, `${plan.layers.length} <= ${budget}`);
      assertPartition(plan, comps);
      for (const l of plan.layers)
        assert.equal(
          l.size,
          l.components.reduce((s, n) => s + comps.find((c) => c.name === n)!.size, 0),
        );
    }
  });

  it('is deterministic, whatever the input order', () => {
    const a = planLayers({ components: comps, layerBudget: 40, maxLayers: 41, fingerprints: fps(comps) });
    const b = planLayers({
      components: [...comps].reverse(),
      layerBudget: 40,
      maxLayers: 41,
      fingerprints: fps(comps),
    });
    assert.deepEqual(JSON.stringify(a), JSON.stringify(b));
  });

  it('keeps volatile components apart from large stable ones, on top', () => {
    const plan = planLayers({ components: comps, layerBudget: 20, maxLayers: 21, fingerprints: fps(comps) });
    const db = plan.layers.findIndex((l) => l.components.includes('pkgdb'));
    const big = comps
      .filter((c) => c.kind === 'deb')
      .sort((a, b) => b.size - a.size)
      .slice(0, 5)
      .map((c) => c.name);
    for (const n of big) assert.ok(!plan.layers[db]!.components.includes(n), `${n} not with pkgdb`);
    // Everything above the database layer is at least as likely to change per byte.
    assert.ok(db >= plan.layers.length - 3, `pkgdb layer ${db} of ${plan.layers.length} is near the top`);
    assert.ok(
      plan.layers[0]!.changeProbability! < plan.layers[db]!.changeProbability! / 2,
      'the bottom layer is a stable one',
    );
  });

  it('with a prior keeps every unchanged component in its prior layer (synthetic)', () => {
    const first = planLayers({ components: comps, layerBudget: 40, maxLayers: 41, fingerprints: fps(comps) });
    const changed = new Set(['deb:pkg003', 'deb:pkg050', 'deb:pkg101', 'pkgdb']);
    const next = [...comps.filter((c) => c.name !== 'deb:pkg020'), deb('newcomer', 400_000, 2)];
    const second = planLayers({
      components: next,
      layerBudget: 40,
      maxLayers: 41,
      fingerprints: fps(next, changed),
      prior: parsePlanLabel('t', JSON.stringify(first)),
    });
    assert.ok(second.layers.length <= 40);
    assertPartition(second, next);
    const before = placement(first);
    const after = placement(second);
    const stays = (members: string) =>
      members
        .split(',')
        .filter((n) => !changed.has(n) && n !== 'deb:pkg020' && n !== 'deb:newcomer')
        .join(',');
    for (const c of next) {
      if (changed.has(c.name) || c.name === 'deb:newcomer') continue;
      assert.equal(stays(after.get(c.name)!), stays(before.get(c.name)!), `${c.name} keeps its layer`);
    }
    assert.match(second.notes.join('\n'), /kept in place, 4 changed, 1 new, 1 removed/);
    assert.equal(second.components['deb:pkg003']!.history, '1');
    assert.equal(second.components['deb:pkg004']!.history, '0');
  });

  it('the same input with its own plan as prior gives the same layers', () => {
    const first = planLayers({ components: comps, layerBudget: 40, maxLayers: 41, fingerprints: fps(comps) });
    const again = planLayers({
      components: comps,
      layerBudget: 40,
      maxLayers: 41,
      fingerprints: fps(comps),
      prior: parsePlanLabel('t', JSON.stringify(first)),
    });
    assert.deepEqual(
      again.layers.map((l) => l.components),
      first.layers.map((l) => l.components),
    );
    assert.equal(again.components['deb:pkg001']!.history, '', 'a rebuild adds no history');
  });

  it('re-packs with a message when the prior no longer fits', () => {
    const first = planLayers({ components: comps, layerBudget: 60, maxLayers: 61, fingerprints: fps(comps) });
    const second = planLayers({
      components: comps,
      layerBudget: 10,
      maxLayers: 11,
      fingerprints: fps(comps),
      prior: parsePlanLabel('t', JSON.stringify(first)),
    });
    assert.ok(second.layers.length <= 10);
    assertPartition(second, comps);
    assert.match(second.notes.join('\n'), /no longer fit in 10: re-packed from scratch/);
  });

  it('accepts a version 1 plan as prior', () => {
    const v1 = {
      version: 1,
      maxLayers: 8,
      layers: [
        { components: ['deb:pkg000', 'deb:pkg001'], size: 1 },
        { components: ['deb:gone'], size: 1 },
      ],
    };
    const plan = planLayers({
      components: comps,
      layerBudget: 40,
      maxLayers: 41,
      fingerprints: fps(comps),
      prior: parsePlanLabel('t', JSON.stringify(v1)),
    });
    assert.ok(plan.layers.some((l) => l.components.join(',') === 'deb:pkg000,deb:pkg001'));
    assertPartition(plan, comps);
  });

  it('packs the binary packages of one source together, and keeps an unchanged one in place when a sibling arrives', () => {
    const src = (name: string, size: number, group: string): Component => ({
      ...deb(name, size, 1),
      group: `deb:${group}`,
    });
    const base = [...comps, src('perl-base', 7_500_000, 'perl'), src('libperl', 300_000, 'perl')];
    const first = planLayers({ components: base, layerBudget: 40, maxLayers: 41, fingerprints: fps(base) });
    const perlLayer = first.layers.find((l) => l.components.includes('deb:perl-base'))!;
    assert.ok(perlLayer.components.includes('deb:libperl'), 'one source, one layer');
    for (const packer of ['chunkah'] as const) {
      const anchor = planLayers({ components: base, layerBudget: 40, maxLayers: 41, packer });
      assert.ok(
        anchor.layers.find((l) => l.components.includes('deb:perl-base'))!.components.includes('deb:libperl'),
        `${packer}: one source, one layer`,
      );
    }
    // perl-modules is installed later: perl-base did not change, so its layer must not either.
    const next = [...base, src('perl-modules', 17_000_000, 'perl')];
    const second = planLayers({
      components: next,
      layerBudget: 40,
      maxLayers: 41,
      fingerprints: fps(next),
      prior: parsePlanLabel('t', JSON.stringify(first)),
    });
    assert.ok(
      second.layers.some((l) => l.components.join(',') === perlLayer.components.join(',')),
      'the layer of perl-base is reused',
    );
    // When the source is updated, all of its binaries change and come back together.
    const changed = new Set(['deb:perl-base', 'deb:libperl', 'deb:perl-modules']);
    const third = planLayers({
      components: next,
      layerBudget: 40,
      maxLayers: 41,
      fingerprints: fps(next, changed),
      prior: parsePlanLabel('t', JSON.stringify(second)),
    });
    const together = third.layers.find((l) => l.components.includes('deb:perl-base'))!;
    for (const n of changed) assert.ok(together.components.includes(n), `${n} with perl-base`);
  });

  it('chunkah-style and single packers respect the budget too', () => {
    for (const packer of ['chunkah', 'single'] as const) {
      const plan = planLayers({ components: comps, layerBudget: 30, maxLayers: 31, packer });
      assert.ok(plan.layers.length <= 30);
      assertPartition(plan, comps);
    }
  });
});
