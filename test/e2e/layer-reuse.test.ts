import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { corpusLayout, corpusSuite } from '../helpers/corpus.js';

/**
 * A rebuild onto a destination that holds the previous build takes the layers whose tar is
 * unchanged from it instead of compressing them again, and the image it writes is byte for byte
 * the one a full build writes.
 */
interface Result {
  manifestDigest: string;
  layers: { digest: string; reused: boolean; components: string[] }[];
}

async function rechunk(args: string[]): Promise<Result> {
  const r = await runCli(['rechunk', ...args, '--quiet', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Result;
}

describe('layer reuse on rebuild', () => {
  const suite = corpusSuite('rechunker-reuse-');

  it('reuses unchanged layers from the destination and writes the same image as a full build', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const src = (tag: string) => `oci:${corpusLayout()}:${tag}`;
    const onto = path.join(suite.out, 'onto');
    const fresh = path.join(suite.out, 'fresh');
    const base = await rechunk([src('base'), `oci:${onto}:base`]);
    assert.equal(base.layers.filter((l) => l.reused).length, 0, 'nothing to reuse on a first build');

    // The usual pipeline: the destination holds the previous build (prior taken from it).
    const rebuilt = await rechunk([src('updated'), `oci:${onto}:updated`, '--prior', `oci:${onto}:base`]);
    // The same build into an empty layout: every layer compressed.
    const full = await rechunk([src('updated'), `oci:${fresh}:updated`, '--prior', `oci:${onto}:base`]);
    assert.equal(full.layers.filter((l) => l.reused).length, 0, 'an empty destination holds nothing to reuse');
    assert.equal(rebuilt.manifestDigest, full.manifestDigest, 'byte-identical to a full build');

    const reused = rebuilt.layers.filter((l) => l.reused);
    const baseDigests = new Set(base.layers.map((l) => l.digest));
    assert.ok(reused.length >= base.layers.length / 2, `${reused.length} of ${rebuilt.layers.length} layers reused`);
    for (const l of reused)
      assert.ok(baseDigests.has(l.digest), `${l.components.join(',')}: a reused layer is the prior's blob`);
    // A changed layer is never taken from the prior.
    for (const l of rebuilt.layers.filter((x) => !baseDigests.has(x.digest))) assert.equal(l.reused, false);
    // The same input again reuses every component layer.
    const again = await rechunk([src('updated'), `oci:${onto}:updated2`, '--prior', `oci:${onto}:updated`]);
    assert.equal(again.manifestDigest, rebuilt.manifestDigest);
    assert.ok(again.layers.filter((l) => l.reused).length >= again.layers.length - 1, 'all but the directory layer');
    await fs.rm(fresh, { recursive: true, force: true });
  });

  it('compresses again when the compression level differs from the prior build', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const src = (tag: string) => `oci:${corpusLayout()}:${tag}`;
    const onto = path.join(suite.out, 'level');
    await rechunk([src('base'), `oci:${onto}:base`]);
    const other = await rechunk([
      src('base'),
      `oci:${onto}:base1`,
      '--prior',
      `oci:${onto}:base`,
      '--compression-level',
      '1',
    ]);
    assert.equal(
      other.layers.filter((l) => l.reused).length,
      0,
      'a blob of another level is not what this build writes',
    );
  });
});
