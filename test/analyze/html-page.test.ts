import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { AnalyzeReport } from '../../src/analyze/analyze-report.js';
import { renderHtml } from '../../src/analyze/html-report.js';

const CHROMIUM = '/usr/bin/chromium';

/** A small report with every part the page draws. */
function sampleReport(): AnalyzeReport {
  const layer = (d: string, n: number) => ({
    digest: `sha256:${d.repeat(64)}`,
    compressedSize: n,
    contentBytes: n * 2,
    tarBytes: n * 3,
    entries: 10,
  });
  const image = (name: string, layers: ReturnType<typeof layer>[]) => ({
    name,
    manifestDigest: 'sha256:' + '0'.repeat(64),
    layers,
    compressedBytes: layers.reduce((s, l) => s + l.compressedSize, 0),
    uncompressedBytes: 0,
    files: 100,
    fileBytes: 5e6,
    directories: 10,
    distinctContents: 90,
    duplicateBytes: 1e5,
    wastedBytes: 2e5,
    componentsByKind: { deb: { components: 3, bytes: 5e6 } },
    topComponents: [{ name: 'deb:bash', kind: 'deb', bytes: 1e6 }],
  });
  return {
    images: [image('oci:x:v1 </script><b>', [layer('a', 8e6)]), image('oci:x:v2', [layer('a', 8e6), layer('b', 2e6)])],
    dedup: {
      files: { totalBytes: 1e7, distinctBytes: 6e6, totalCount: 200, distinctCount: 120, ratio: 1.667 },
      layers: { totalBytes: 1.8e7, distinctBytes: 1e7, totalCount: 3, distinctCount: 2, ratio: 1.8 },
    },
    topDuplicatedPaths: [{ path: 'usr/bin/bash', copies: 2, duplicatedBytes: 1.2e6 }],
    topDuplicatedTypes: [{ type: 'so', files: 10, duplicatedBytes: 3e6 }],
    relayering: {
      groups: [{ images: [0, 1], contents: 80, bytes: 5e6 }],
      layerCount: 2,
      storedBytes: 6e6,
      sharedBytes: 5e6,
    },
    steps: [
      {
        from: 'oci:x:v1',
        to: 'oci:x:v2',
        imageBytes: 1e7,
        blobDownload: 2e6,
        chainDownload: 2e6,
        lowerBound: 5e5,
        rechunkedDownload: 8e5,
        rechunkedLayers: 64,
        rechunkedChangedLayers: 3,
      },
    ],
    index: { dir: '/tmp/x', layersIndexed: 2, layersFromIndex: 0, imagesFromIndex: 0 },
  };
}

describe('analyze --html', () => {
  it('is one page with the chart library inline, and escapes what images are named', async () => {
    const chartJs = await fs.readFile(
      path.join(path.dirname(fileURLToPath(import.meta.resolve('chart.js'))), 'chart.umd.min.js'),
      'utf8',
    );
    const html = renderHtml(sampleReport(), chartJs);
    assert.ok(html.includes(chartJs.slice(0, 200)), 'Chart.js is inlined');
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/i, 'nothing loaded from elsewhere');
    assert.equal(html.match(/<\/script>/g)?.length, 3, 'a name holding </script> does not end a script');
  });

  it('renders in headless Chromium with no console error and no network request', {
    skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`,
  }, async () => {
    const { chromium } = await import('playwright-core');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-html-'));
    const chartJs = await fs.readFile(
      path.join(path.dirname(fileURLToPath(import.meta.resolve('chart.js'))), 'chart.umd.min.js'),
      'utf8',
    );
    const page = path.join(dir, 'report.html');
    await fs.writeFile(page, renderHtml(sampleReport(), chartJs));
    // A fresh profile directory (playwright passes it as --user-data-dir).
    const browser = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1200, height: 1800 },
    });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      tab.on('pageerror', (e) => errors.push(e.message));
      tab.on('request', (r) => r.url() !== `file://${page}` && requests.push(r.url()));
      await tab.goto(`file://${page}`, { waitUntil: 'load' });
      const drawn = await tab.evaluate(() =>
        [...document.querySelectorAll('canvas')].map(
          (c) =>
            (globalThis as unknown as { Chart: { getChart(c: unknown): unknown } }).Chart.getChart(c) !== undefined,
        ),
      );
      assert.deepEqual(drawn, [true, true, true, true], 'every chart is drawn');
      assert.equal(await tab.locator('#images tr').count(), 3);
      const shot = path.join(process.env.RECHUNKER_SCREENSHOT_DIR ?? dir, 'analyze-report.png');
      await tab.screenshot({ path: shot, fullPage: true });
      assert.ok((await fs.stat(shot)).size > 10_000, 'a screenshot with something in it');
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
    } finally {
      await browser.close();
      if (!process.env.RECHUNKER_SCREENSHOT_DIR) await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
