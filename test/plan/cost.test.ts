import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chainKey, coChange, layerProbability, orHistory, unionProbability } from '../../src/plan/cost.js';
import type { PlanComponent } from '../../src/plan/plan-types.js';

describe('cost model', () => {
  it('co-change: one joint change is weak evidence, many are strong, none is none', () => {
    assert.equal(coChange('1', '1'), 0.5);
    assert.equal(coChange('0000', '0000'), 0);
    assert.equal(coChange('10', '01'), 0);
    assert.ok(coChange('1111111111', '1111111111') > 0.9);
    // Aligned on the newest build: a longer history's older builds are not compared.
    assert.equal(coChange('0011', '1'), 0.5);
  });

  it('union probability runs from independent to the larger one', () => {
    assert.equal(unionProbability(0.2, 0.5, 1), 0.5);
    assert.ok(Math.abs(unionProbability(0.2, 0.5, 0) - 0.6) < 1e-12);
  });

  it("counts the members of one group once in a layer's change probability", () => {
    const comps = new Map<string, PlanComponent>([
      ['deb:a1', { name: 'deb:a1', size: 1, changeProbability: 0.2, group: 'deb:a' }],
      ['deb:a2', { name: 'deb:a2', size: 1, changeProbability: 0.3, group: 'deb:a' }],
      ['deb:b', { name: 'deb:b', size: 1, changeProbability: 0.5 }],
    ]);
    assert.ok(Math.abs(layerProbability(['deb:a1', 'deb:a2'], comps) - 0.3) < 1e-12);
    assert.ok(Math.abs(layerProbability(['deb:a1', 'deb:a2', 'deb:b'], comps) - 0.65) < 1e-12);
  });

  it('ORs histories aligned on the newest build', () => {
    assert.equal(orHistory('100', '01'), '101');
  });

  it('puts large stable layers below small volatile ones', () => {
    assert.ok(chainKey(0.05, 10_000_000) < chainKey(0.05, 100_000));
    assert.ok(chainKey(0.05, 1_000_000) < chainKey(0.5, 1_000_000));
  });
});
