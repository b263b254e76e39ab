/**
 * npm run bench:simulate: 20 versions of the corpus's OS, planned each time with the previous
 * plan as prior, to show the update cost stays near the lower bound instead of drifting. Pure
 * (no images): components are the corpus base's, from `rechunker plan --json` (or a file given
 * with --components FILE holding that output).
 *
 * Each version, 30 days apart: a source package (a component group; a component without one is
 * its own) changes with a true probability drawn around what its changelog says (x lognormal
 * noise, seeded, so the planner's estimate is not the truth), and then every binary package of it
 * changes; a change adds a changelog entry and resizes it a little; the package database changes
 * whenever a package does; NEW_PER_VERSION source packages appear (sizes and history copied from
 * a random existing one) and REMOVED_PER_VERSION disappear. A layer is reused when its component
 * set is the same and none of its components changed. Lower bound: the bytes of changed and new
 * components. Two references bound what better prediction could win: our packer told the true
 * rates, and the chain floor (chainFloor).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Component, ComponentKind } from '../src/components/types.js';
import { chainKey } from '../src/plan/cost.js';
import { planLayers } from '../src/plan/plan-layers.js';
import { packFresh } from '../src/plan/pack.js';
import type { PackerName, Plan, PlanComponent } from '../src/plan/plan-types.js';
import { packWithPrior } from '../src/plan/prior-pack.js';
import { metadataProbability, newestChangeTime } from '../src/plan/stability.js';
import { mdRow } from './markdown.js';

const VERSIONS = 20;
const NEW_PER_VERSION = 2;
const REMOVED_PER_VERSION = 1;
const LAYER_BUDGET = 63;
const DAY = 86400;
const INTERVAL = 30 * DAY;

interface SimComponent {
  name: string;
  kind: ComponentKind;
  /** Source package: its members change together. */
  group: string;
  size: number;
  changeTimes: number[];
  version: number;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

interface Step {
  version: number;
  changed: number;
  added: number;
  removed: number;
  lowerBound: number;
  chainFloor: number;
  costs: Record<string, { blob: number; chain: number; reused: number; layers: number }>;
}

const toComponent = (c: SimComponent): Component => ({
  name: c.name,
  kind: c.kind,
  group: c.group,
  paths: [],
  size: c.size,
  meta: { changeTimes: c.changeTimes },
});
const fpOf = (c: SimComponent): string => `${c.name}@${c.version}`;

function transition(prev: Plan, next: Plan): { blob: number; chain: number; reused: number; layers: number } {
  const sig = (p: Plan, i: number): string =>
    p.layers[i]!.components.map((n) => `${n}=${p.components[n]!.fingerprint}`).join(',');
  const old = new Set(prev.layers.map((_, i) => sig(prev, i)));
  let blob = 0;
  let chain = 0;
  let reused = 0;
  let intact = true;
  next.layers.forEach((l, i) => {
    const s = sig(next, i);
    if (old.has(s)) reused++;
    else blob += l.size;
    intact = intact && i < prev.layers.length && sig(prev, i) === s;
    if (!intact) chain += l.size;
  });
  return { blob, chain, reused, layers: next.layers.length };
}

/**
 * Our packer given each source package's true change probability instead of an estimate: what
 * no estimate can beat, so the gap to it is what better prediction could still win.
 */
function truePlan(
  comps: readonly SimComponent[],
  truth: ReadonlyMap<string, number>,
  prior: Plan | undefined,
  budget: number,
): Plan {
  const pcs: PlanComponent[] = comps.map((c) => ({
    name: c.name,
    size: c.size,
    changeProbability: Math.min(0.98, Math.max(0.002, truth.get(c.group)!)),
    history: '',
    group: c.group,
  }));
  const components = Object.fromEntries(
    comps.map((c) => [c.name, { fingerprint: fpOf(c), size: c.size, changeProbability: 0, history: '' }]),
  );
  const changed = new Set(
    comps
      .filter((c) => prior?.components[c.name] !== undefined && prior.components[c.name]!.fingerprint !== fpOf(c))
      .map((c) => c.name),
  );
  const layers = (prior && packWithPrior(pcs, changed, prior, budget).layers) || packFresh(pcs, budget);
  return {
    version: 2,
    maxLayers: budget + 1,
    layers,
    components,
    packer: 'rechunker',
    expectedCost: 0,
    expectedLowerBound: 0,
    notes: [],
  };
}

/** Each source package's bytes and version signature: it is reused when the signature is the same. */
function bySource(comps: readonly SimComponent[]): Map<string, { size: number; sig: string }> {
  const out = new Map<string, { size: number; sig: string }>();
  for (const c of comps) {
    const s = out.get(c.group) ?? { size: 0, sig: '' };
    out.set(c.group, { size: s.size + c.size, sig: `${s.sig}${fpOf(c)},` });
  }
  return out;
}

/**
 * The chain-reuse floor of one update: a layer per source package (splitting a layer never adds
 * to a chain download), ordered bottom-up by the true rates (the exchange order of cost.ts, best
 * in expectation), so everything from the lowest changed or removed source up is downloaded.
 */
function chainFloor(
  before: Map<string, { size: number; sig: string }>,
  after: Map<string, { size: number; sig: string }>,
  truth: ReadonlyMap<string, number>,
): number {
  const order = [...before.entries()].sort(
    ([ga, a], [gb, b]) =>
      chainKey(truth.get(ga)!, a.size) - chainKey(truth.get(gb)!, b.size) || b.size - a.size || (ga < gb ? -1 : 1),
  );
  const first = order.findIndex(([g, s]) => after.get(g)?.sig !== s.sig);
  const kept = new Set(order.slice(0, first < 0 ? order.length : first).map(([g]) => g));
  let bytes = 0;
  for (const [g, s] of after) if (!kept.has(g)) bytes += s.size;
  return bytes;
}

export function simulate(start: SimComponent[], seed = 1): Step[] {
  const rand = mulberry32(seed);
  let comps = start.map((c) => ({ ...c, changeTimes: [...c.changeTimes] }));
  const t0 = newestChangeTime(comps.map(toComponent)) ?? 1_700_000_000;
  // The truth, per source package: what the changelog says, times lognormal noise (sigma 0.8).
  const truth = new Map<string, number>();
  for (const c of comps) {
    if (!truth.has(c.group))
      truth.set(
        c.group,
        c.kind === 'pkgdb'
          ? 1
          : Math.min(0.95, metadataProbability(toComponent(c), t0) * Math.exp(0.8 * gaussian(rand))),
      );
  }
  const variants: { name: string; packer: PackerName | 'true-rates'; prior: boolean }[] = [
    { name: 'ours (prior)', packer: 'rechunker', prior: true },
    { name: 'ours, told true rates', packer: 'true-rates', prior: true },
    { name: 'ours (no prior)', packer: 'rechunker', prior: false },
    { name: 'chunkah-style', packer: 'chunkah', prior: false },
  ];
  const plan = (v: (typeof variants)[number], prior: Plan | undefined): Plan =>
    v.packer === 'true-rates'
      ? truePlan(comps, truth, prior, LAYER_BUDGET)
      : planLayers({
          components: comps.map(toComponent),
          layerBudget: LAYER_BUDGET,
          maxLayers: LAYER_BUDGET + 1,
          fingerprints: new Map(comps.map((c) => [c.name, fpOf(c)])),
          packer: v.packer,
          ...(v.prior && prior ? { prior } : {}),
        });
  let plans = variants.map((v) => plan(v, undefined));
  const steps: Step[] = [];
  let serial = 0;
  for (let version = 1; version <= VERSIONS; version++) {
    const now = t0 + version * INTERVAL;
    const before = bySource(comps);
    let lowerBound = 0;
    let changed = 0;
    const sources = (): string[] => [...new Set(comps.filter((c) => c.kind === 'deb').map((c) => c.group))];
    const removable = sources();
    const removed = new Set<string>();
    for (let k = 0; k < REMOVED_PER_VERSION && removable.length > 0; k++)
      removed.add(removable[Math.floor(rand() * removable.length)]!);
    comps = comps.filter((c) => !removed.has(c.group));
    let anyPackage = removed.size > 0;
    const changedSources = new Set<string>();
    for (const g of sources()) if (rand() < truth.get(g)!) changedSources.add(g);
    for (const c of comps) {
      if (c.kind === 'pkgdb') continue;
      if (changedSources.has(c.group) || (c.kind !== 'deb' && rand() < truth.get(c.group)!)) {
        c.version++;
        c.size = Math.max(1, Math.round(c.size * (0.95 + 0.1 * rand())));
        c.changeTimes.unshift(now);
        lowerBound += c.size;
        changed++;
        if (c.kind === 'deb') anyPackage = true;
      }
    }
    const models = sources();
    for (let k = 0; k < NEW_PER_VERSION; k++) {
      const model = models[Math.floor(rand() * models.length)]!;
      const group = `deb:new-${version}-${++serial}`;
      truth.set(group, truth.get(model)!);
      for (const m of comps.filter((c) => c.group === model)) {
        const c: SimComponent = {
          ...m,
          name: `${group}/${m.name.slice(4)}`,
          group,
          version: 0,
          changeTimes: m.changeTimes.map((t) => t + version * INTERVAL),
        };
        comps.push(c);
        lowerBound += c.size;
      }
      anyPackage = true;
    }
    const db = comps.find((c) => c.kind === 'pkgdb');
    if (db && anyPackage) {
      db.version++;
      lowerBound += db.size;
      changed++;
    }
    const next = variants.map((v, i) => plan(v, plans[i]));
    const costs: Step['costs'] = {};
    variants.forEach((v, i) => (costs[v.name] = transition(plans[i]!, next[i]!)));
    steps.push({
      version,
      changed,
      added: NEW_PER_VERSION,
      removed: removed.size,
      lowerBound,
      chainFloor: chainFloor(before, bySource(comps), truth),
      costs,
    });
    plans = next;
  }
  return steps;
}

async function loadComponents(file: string | undefined): Promise<SimComponent[]> {
  let text: string;
  if (file) text = await fs.readFile(file, 'utf8');
  else {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const corpus = path.join(process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus', 'oci');
    text = (
      await promisify(execFile)(
        process.execPath,
        [path.join(root, 'bin', 'run.js'), 'plan', `oci:${corpus}:base`, '--json', '--quiet'],
        { maxBuffer: 256 * 1024 * 1024 },
      )
    ).stdout;
  }
  const r = JSON.parse(text) as {
    components: { name: string; kind: ComponentKind; group?: string; size: number; changeTimes: number[] }[];
  };
  return r.components.map((c) => ({
    name: c.name,
    kind: c.kind,
    group: c.group ?? c.name,
    size: c.size,
    changeTimes: c.changeTimes ?? [],
    version: 0,
  }));
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--components');
  const comps = await loadComponents(at >= 0 ? process.argv[at + 1] : undefined);
  const steps = simulate(comps, 1);
  const names = Object.keys(steps[0]!.costs);
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  const lines = [
    `${comps.length} components from the corpus base, ${VERSIONS} versions, ${LAYER_BUDGET} component layers, ` +
      `+${NEW_PER_VERSION}/-${REMOVED_PER_VERSION} packages per version (uncompressed MB)`,
    '',
    `| version | changed | lower bound | chain floor (x) | ${names.map((n) => `${n} blob (x) | chain (x) | reused`).join(' | ')} |`,
    `|---:|---:|---:|---:|${names.map(() => '---:|---:|---:').join('|')}|`,
  ];
  const totals = Object.fromEntries(names.map((n) => [n, { blob: 0, chain: 0 }]));
  let lbTotal = 0;
  let floorTotal = 0;
  for (const s of steps) {
    lbTotal += s.lowerBound;
    floorTotal += s.chainFloor;
    const cells = names.map((n) => {
      const c = s.costs[n]!;
      totals[n]!.blob += c.blob;
      totals[n]!.chain += c.chain;
      return `${mb(c.blob)} (${(c.blob / s.lowerBound).toFixed(2)}) | ${mb(c.chain)} (${(c.chain / s.lowerBound).toFixed(2)}) | ${c.reused}/${c.layers}`;
    });
    lines.push(
      mdRow([
        s.version,
        `${s.changed}+${s.added}`,
        mb(s.lowerBound),
        `${mb(s.chainFloor)} (${(s.chainFloor / s.lowerBound).toFixed(2)})`,
        ...cells,
      ]),
    );
  }
  lines.push(
    mdRow([
      'total',
      '',
      mb(lbTotal),
      `${mb(floorTotal)} (${(floorTotal / lbTotal).toFixed(2)})`,
      ...names.flatMap((n) => [
        `${mb(totals[n]!.blob)} (${(totals[n]!.blob / lbTotal).toFixed(2)})`,
        `${mb(totals[n]!.chain)} (${(totals[n]!.chain / lbTotal).toFixed(2)})`,
        '', // no layers-reused total
      ]),
    ]),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
