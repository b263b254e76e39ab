// One build for bench/phases.ts, in plain Node on the compiled engine (dist/), so that its resident
// set is the CLI's and not tsx's as well: times each progress phase and samples its peak RSS, V8
// heap and ArrayBuffers every 10 ms; prints them as JSON.
//   node LAUNCHER-FLAGS bench/phase-probe.mjs SOURCE DESTINATION   (bin/run.js's shebang flags)
import { rechunk } from '../dist/src/engine/rechunk.js';

const [source, destination] = process.argv.slice(2);
const phases = new Map();
let phase = 'start';
let at = performance.now();

function figures() {
  let f = phases.get(phase);
  if (!f) phases.set(phase, (f = { seconds: 0, rss: 0, heap: 0, arrayBuffers: 0 }));
  return f;
}
function sample() {
  const m = process.memoryUsage();
  const f = figures();
  f.rss = Math.max(f.rss, m.rss);
  f.heap = Math.max(f.heap, m.heapUsed);
  f.arrayBuffers = Math.max(f.arrayBuffers, m.arrayBuffers);
}
function close() {
  sample();
  const now = performance.now();
  figures().seconds += (now - at) / 1000;
  at = now;
}

const timer = setInterval(sample, 10);
const progress = {
  // "reading layer 2/4" and "reading layer 3/4" are one phase here.
  phase(text) {
    close();
    phase = text.replace(/\d+\/\d+/, 'N').replace(/ (oci|docker|containers-storage):\S+/, ' $1:...');
  },
  advance() {},
  warn() {},
  note() {},
  done() {},
};
await rechunk({
  source,
  destination,
  platform: { os: 'linux', architecture: 'amd64' },
  maxLayers: 64,
  compression: 'gzip',
  progress,
});
close();
clearInterval(timer);
process.stdout.write(JSON.stringify([...phases]));
