import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { AnalyzeReport } from '../../src/analyze/analyze-report.js';
import { runCli } from '../helpers/cli.js';
import { corpusLayout, corpusSuite } from '../helpers/corpus.js';

/**
 * `analyze --series` says what the image rechunked with the previous one as prior would download
 * (steps[].rechunkedDownload). Here the two corpus images are rechunked for real with the CLI,
 * the second with the first as --prior, into one OCI layout, and the new image's layers that the
 * old one does not have are counted: what a client reusing blobs by digest downloads. The layer
 * counts must match exactly (analyze plans with the same planner, components and fingerprints);
 * the bytes are an estimate (a layer weighs its files gzip'd one by one, the real layer is one
 * gzip stream of their tar), 6% above the real layers on this corpus.
 */
const TOLERANCE = 0.1;

interface RechunkResult {
  layers: { digest: string; size: number; components: string[] }[];
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli([...args, '--quiet', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

describe('analyze --series against a real rechunk', () => {
  const suite = corpusSuite('rechunker-analyze-rechunked-');

  it('the rechunked download counts the layers a real rechunk changes, and weighs about what they weigh', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const src = (tag: string) => `oci:${corpusLayout()}:${tag}`;
    const out = path.join(suite.out, 'out');
    const base = JSON.parse(await cli(['rechunk', src('base'), `oci:${out}:base`])) as RechunkResult;
    const updated = JSON.parse(
      await cli(['rechunk', src('updated'), `oci:${out}:updated`, '--prior', `oci:${out}:base`]),
    ) as RechunkResult;
    const had = new Set(base.layers.map((l) => l.digest));
    const fetched = updated.layers.filter((l) => !had.has(l.digest));
    const realBytes = fetched.reduce((s, l) => s + l.size, 0);

    const index = path.join(suite.out, 'index');
    const report = JSON.parse(
      await cli(['analyze', src('base'), src('updated'), '--series', '--index', index]),
    ) as AnalyzeReport;
    const step = report.steps![0]!;
    assert.equal(step.rechunkedLayers, updated.layers.length, 'layers of the rechunked image');
    assert.equal(step.rechunkedChangedLayers, fetched.length, 'layers the real update fetches');
    assert.ok(fetched.length > 0 && fetched.length < updated.layers.length / 2, `${fetched.length} layers changed`);
    const error = (step.rechunkedDownload - realBytes) / realBytes;
    assert.ok(
      Math.abs(error) <= TOLERANCE,
      `rechunked download ${step.rechunkedDownload} against ${realBytes} bytes of real layers (${(error * 100).toFixed(1)}%)`,
    );
    assert.ok(step.rechunkedDownload >= step.lowerBound, 'no layering downloads less than the lower bound');
    t.diagnostic(`estimate ${step.rechunkedDownload}, real ${realBytes} (${(error * 100).toFixed(1)}%)`);
  });
});
