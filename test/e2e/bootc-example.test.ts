import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/cli.js';
import { corpusSkipReason } from '../helpers/corpus.js';
import { has, run } from '../helpers/tools.js';

/**
 * Issue 15, point 5: examples/bootc runs as a user would run it (podman build of its Containerfile,
 * rechunk from containers-storage: into containers-storage:), and the result passes `verify`
 * against the tree podman mounts for the build.
 */
test('examples/bootc/run-example.sh builds, rechunks and verifies', async (t) => {
  const skip = (await corpusSkipReason()) ?? (!(await has('skopeo')) ? 'skopeo is not installed' : undefined);
  if (skip) return t.skip(skip);
  const script = path.join(repoRoot, 'examples', 'bootc', 'run-example.sh');
  const r = await run('sh', [script], {
    env: { ...process.env, RECHUNKER: `${process.execPath} ${path.join(repoRoot, 'bin', 'run.js')}` },
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /no differences/);
  assert.match(r.stdout, /example ok: \d+ layers; on the base: \d+ layers, the first the base.s/);
});
