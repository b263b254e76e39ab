import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_LAYERS } from '../../src/cli/flags.js';
import { layerCountWarning, RUNTIME_LAYER_LIMITS, WARN_LAYERS } from '../../src/engine/read-and-plan.js';

describe('the --max-layers warning', () => {
  it('is silent up to 128, what every runtime stacks', () => {
    assert.equal(WARN_LAYERS, 128);
    for (const n of [2, 64, 128]) assert.equal(layerCountWarning(n), undefined, `--max-layers ${n}`);
  });

  it('above 128 names moby and its limit, not containers/storage', () => {
    const w = layerCountWarning(129);
    assert.equal(
      w,
      "--max-layers 129: moby's overlay2 (docker) stacks at most 128; an image with more layers fails to pull there",
    );
    assert.doesNotMatch(w!, /containers\/storage/);
  });

  it('names every runtime whose limit is exceeded', () => {
    const w = layerCountWarning(501)!;
    assert.match(
      w,
      /moby's overlay2 \(docker\) stacks at most 128, containers\/storage \(podman, CRI-O\) stacks at most 500;/,
    );
  });

  it('the flag cannot ask for more than containers/storage stacks', () => {
    const storage = RUNTIME_LAYER_LIMITS.find((l) => l.runtime.startsWith('containers/storage'))!;
    assert.ok(MAX_LAYERS <= storage.layers, `MAX_LAYERS ${MAX_LAYERS}`);
    assert.match(layerCountWarning(MAX_LAYERS)!, /^--max-layers 500: moby's overlay2/);
  });
});
