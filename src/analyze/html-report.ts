import type { AnalyzeReport } from './analyze-report.js';

/**
 * One self-contained page: the report as JSON, Chart.js inlined (read from node_modules by the
 * caller), no request to anywhere. Chart.js rather than hand-drawn SVG: stacked and grouped bars,
 * axes in bytes and tooltips come with it, and it is one 200 KB file with no dependencies.
 */
export function renderHtml(report: AnalyzeReport, chartJs: string): string {
  const data = JSON.stringify(report).replace(/</g, '\\u003c');
  const lib = chartJs.replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>rechunker analyze: ${report.images.length} images</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
.chart { position: relative; height: 340px; } table { border-collapse: collapse; margin: 1em 0; }
td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; } td:first-child, th:first-child { text-align: left; }
</style></head><body>
<h1>rechunker analyze</h1>
<p id="summary"></p>
<h2>Layer sizes per image (compressed)</h2><div class="chart"><canvas id="layers"></canvas></div>
<h2>File-level against layer-level deduplication</h2><div class="chart"><canvas id="dedup"></canvas></div>
<h2>Update cost per step</h2><div class="chart"><canvas id="series"></canvas></div>
<h2>Biggest duplicated paths</h2><div class="chart"><canvas id="paths"></canvas></div>
<h2>Images</h2><table id="images"></table>
<script type="application/json" id="report">${data}</script>
<script>${lib}</script>
<script>
(function () {
  const r = JSON.parse(document.getElementById('report').textContent);
  const MB = (n) => n / 1e6;
  const fmt = (n) => (n >= 1e9 ? (n / 1e9).toFixed(2) + ' GB' : (n / 1e6).toFixed(1) + ' MB');
  const mbAxis = { ticks: { callback: (v) => v + ' MB' } };
  const common = { animation: false, responsive: true, maintainAspectRatio: false };
  const palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
  const d = r.dedup;
  document.getElementById('summary').textContent = r.images.length + ' images; files ' + fmt(d.files.totalBytes) +
    ' of which distinct ' + fmt(d.files.distinctBytes) + ' (' + d.files.ratio + 'x); layers ' + fmt(d.layers.totalBytes) +
    ' of which distinct ' + fmt(d.layers.distinctBytes) + ' (' + d.layers.ratio + 'x).';
  const depth = Math.max(0, ...r.images.map((i) => i.layers.length));
  new Chart(document.getElementById('layers'), { type: 'bar', options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, ...mbAxis } } },
    data: { labels: r.images.map((i) => i.name), datasets: Array.from({ length: depth }, (_, k) => ({ label: 'layer ' + (k + 1),
      backgroundColor: palette[k % palette.length], data: r.images.map((i) => (i.layers[k] ? MB(i.layers[k].compressedSize) : 0)) })) } });
  new Chart(document.getElementById('dedup'), { type: 'bar', options: { ...common, scales: { y: mbAxis } },
    data: { labels: ['files (uncompressed)', 'layers (compressed)'], datasets: [
      { label: 'all', backgroundColor: palette[0], data: [MB(d.files.totalBytes), MB(d.layers.totalBytes)] },
      { label: 'distinct', backgroundColor: palette[1], data: [MB(d.files.distinctBytes), MB(d.layers.distinctBytes)] }] } });
  const steps = r.steps || [];
  new Chart(document.getElementById('series'), { type: 'bar', options: { ...common, scales: { y: mbAxis } },
    data: { labels: steps.map((s) => s.from + ' -> ' + s.to), datasets: [
      { label: 'blob reuse', backgroundColor: palette[0], data: steps.map((s) => MB(s.blobDownload)) },
      { label: 'chain reuse', backgroundColor: palette[2], data: steps.map((s) => MB(s.chainDownload)) },
      { label: 'rechunked', backgroundColor: palette[4], data: steps.map((s) => MB(s.rechunkedDownload)) },
      { label: 'lower bound', backgroundColor: palette[5], data: steps.map((s) => MB(s.lowerBound)) }] } });
  new Chart(document.getElementById('paths'), { type: 'bar', options: { ...common, indexAxis: 'y', scales: { x: mbAxis } },
    data: { labels: r.topDuplicatedPaths.map((p) => '/' + p.path), datasets: [
      { label: 'duplicated bytes', backgroundColor: palette[3], data: r.topDuplicatedPaths.map((p) => MB(p.duplicatedBytes)) }] } });
  const t = document.getElementById('images');
  const row = (cells, tag) => {
    const tr = t.insertRow();
    for (const c of cells) { const e = document.createElement(tag); e.textContent = c; tr.appendChild(e); }
  };
  row(['image', 'layers', 'compressed', 'files', 'file bytes', 'duplicate', 'wasted'], 'th');
  for (const i of r.images) row([i.name, i.layers.length, fmt(i.compressedBytes), i.files, fmt(i.fileBytes), fmt(i.duplicateBytes), fmt(i.wastedBytes)], 'td');
})();
</script></body></html>
`;
}
