import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AnalyzeReport } from '../../src/analyze/analyze-report.js';
import { analyzeImages } from '../../src/engine/analyze-images.js';
import { newEntry } from '../../src/tar/entry.js';
import { repoRoot } from '../helpers/cli.js';
import { makeImage, tarBytes } from '../helpers/make-image.js';

/**
 * Indexing is a map over layers: workers that each index some of the images into one shared
 * index, then one run that reads only the index, give the report a single run gives. Small made
 * images with shared layers, so that workers race on the same layer files.
 */
const PLATFORM = { os: 'linux', architecture: 'amd64' };

function spawnAnalyze(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const script = path.join(repoRoot, 'test', 'analyze', 'run-analyze.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const withoutIndexStats = ({ index: _index, ...rest }: AnalyzeReport) => rest;

async function layer(dir: string, files: Record<string, string>): Promise<Buffer> {
  const items = [{ entry: newEntry(dir, 'dir', { mtimeSec: 1_700_000_000 }) }];
  for (const [name, text] of Object.entries(files)) {
    const body = Buffer.from(text.repeat(200));
    items.push({
      entry: newEntry(`${dir}/${name}`, 'file', { size: body.length, mtimeSec: 1_700_000_000 }),
      body,
    } as never);
  }
  return tarBytes(items);
}

describe('analyze index workers', () => {
  let work = '';
  let layout = '';
  const tags = ['one', 'two', 'three', 'four'];
  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-analyze-workers-'));
    layout = path.join(work, 'layout');
    const a = await layer('usr', { a: 'alpha', b: 'beta', dup: 'same' });
    const b = await layer('etc', { c: 'gamma', dup: 'same' });
    const c = await layer('opt', { d: 'delta' });
    const d = await layer('srv', { e: 'epsilon', f: 'alpha' });
    const images = [[a], [a, b], [a, b, c], [a, c, d]];
    for (let i = 0; i < images.length; i++) await makeImage(layout, tags[i]!, images[i]!);
  });
  after(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('four workers into one shared index, then one query run, give the report of a single run', async () => {
    const refs = tags.map((t) => `oci:${layout}:${t}`);
    const single = (await analyzeImages({
      refs,
      platform: PLATFORM,
      indexDir: path.join(work, 'single'),
      series: true,
    })) as AnalyzeReport;
    const shared = path.join(work, 'shared');
    const results = await Promise.all(refs.map((r) => spawnAnalyze(['--index', shared, '--only-index', r])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const files = await fs.readdir(path.join(shared, 'layers'));
    assert.equal(
      files.filter((f) => f.endsWith('.parquet')).length,
      4,
      `one file per distinct layer: ${files.join(' ')}`,
    );
    assert.deepEqual(
      files.filter((f) => f.includes('.tmp-')),
      [],
      'no temporary file is left',
    );
    const q = await spawnAnalyze(['--index', shared, '--series', '--json', ...refs]);
    assert.equal(q.code, 0, q.stderr);
    const joined = JSON.parse(q.stdout) as AnalyzeReport;
    assert.equal(joined.index.layersIndexed, 0, 'the query run reads only the index');
    assert.deepEqual(withoutIndexStats(joined), withoutIndexStats(single));
  });
});
