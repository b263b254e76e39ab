/**
 * The differential: a few hundred archives from tar-grammar.ts, each read by us, by GNU tar and
 * by Go's archive/tar (through umoci). The rule it checks: where GNU tar and Go agree, our tree
 * is theirs; where they disagree, or either refuses, we refuse (BAD_TAR, UNSAFE_PATH or
 * UNSUPPORTED). A refusal where both accept is allowed but counted and printed, so that
 * over-refusing shows. RECHUNKER_DIFF_COUNT and RECHUNKER_DIFF_SEED run other archives.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContentStore } from '../../src/graph/content-store.js';
import { has, run } from '../helpers/tools.js';
import { generateArchive, type GeneratedArchive } from './tar-grammar.js';
import { readGnu, readGo, readOurs, type Reading, type Seen } from './tar-oracles.js';

const COUNT = Number(process.env.RECHUNKER_DIFF_COUNT ?? 300);
const SEED = Number(process.env.RECHUNKER_DIFF_SEED ?? 16);
const PARALLEL = Math.max(2, Math.min(6, os.availableParallelism()));

const tools = await Promise.all([has('tar'), has('umoci'), has('getfattr')]);
const skip =
  process.getuid?.() !== 0
    ? 'needs root (owners, devices, xattrs)'
    : !tools.every(Boolean)
      ? `needs GNU tar, umoci and getfattr on PATH (found: ${tools.join(', ')})`
      : false;

// Anything an unpacker invents for a directory no entry described has a fresh mtime; the
// grammar's own mtimes are all before 2021.
const startNs = BigInt(Date.now() - 60_000) * 1_000_000n;

/** Is this directory one that no entry described (the unpacker made it up)? */
const madeUp = (s: Seen) => s.type === 'dir' && (s.implied === true || s.mtimeNs >= startNs);

/** Every difference between two trees, one line each; the empty list when they agree. */
export function treeDiff(a: Map<string, Seen>, b: Map<string, Seen>): string[] {
  const out: string[] = [];
  for (const p of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(p);
    const y = b.get(p);
    if (!x || !y) {
      out.push(`${JSON.stringify(p)}: only in ${x ? 'first' : 'second'}`);
      continue;
    }
    if (x.type !== y.type) {
      out.push(`${JSON.stringify(p)}: type ${x.type} vs ${y.type}`);
      continue;
    }
    if (madeUp(x) !== madeUp(y)) out.push(`${JSON.stringify(p)}: described in only one`);
    if (madeUp(x) || madeUp(y)) continue;
    for (const k of [
      'mode',
      'uid',
      'gid',
      'mtimeNs',
      'size',
      'sha256',
      'link',
      'dev',
      'xattrs',
      'linkGroup',
    ] as const) {
      if (k === 'mode' && x.type === 'symlink') continue; // meaningless on Linux
      if (x[k] !== y[k]) out.push(`${JSON.stringify(p)}: ${k} ${String(x[k])} vs ${String(y[k])}`);
    }
  }
  return out.sort();
}

/**
 * GNU tar extracts whiteout markers as plain files (making their parents); Go (umoci) applies
 * them. Drop the markers, then the made-up directories that only held markers.
 */
function withoutWhiteouts(tree: Map<string, Seen>): Map<string, Seen> {
  const out = new Map([...tree].filter(([p]) => !/(^|\/)\.wh\./.test(p)));
  const needed = new Set<string>();
  for (const [p, s] of out) {
    if (madeUp(s)) continue;
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) needed.add(p.slice(0, i));
  }
  for (const [p, s] of out) if (madeUp(s) && !needed.has(p)) out.delete(p);
  return out;
}

interface Verdict {
  archive: GeneratedArchive;
  ours: Reading;
  gnu: Reading;
  go: Reading;
  /** Empty when the rule holds. */
  problems: string[];
  overRefusal: boolean;
  ms: number;
}

function judge(archive: GeneratedArchive, ours: Reading, gnu: Reading, go: Reading, ms: number): Verdict {
  const problems: string[] = [];
  let overRefusal = false;
  const gnuTree = gnu.ok ? withoutWhiteouts(gnu.tree) : undefined;
  const agree = gnuTree && go.ok ? treeDiff(gnuTree, go.tree) : undefined;
  if (ours.ok) {
    if (!gnuTree) problems.push(`we accept what GNU tar refuses (${gnu.ok ? '' : gnu.error})`);
    if (!go.ok) problems.push(`we accept what Go refuses (${go.ok ? '' : go.error})`);
    if (agree && agree.length > 0)
      problems.push(`we accept what GNU tar and Go read differently: ${agree.slice(0, 4).join('; ')}`);
    if (agree && agree.length === 0 && go.ok) {
      const d = treeDiff(ours.tree, go.tree);
      if (d.length > 0) problems.push(`we read it differently from GNU tar and Go: ${d.slice(0, 6).join('; ')}`);
    }
  } else if (agree && agree.length === 0) {
    overRefusal = true;
  }
  if (ms > 1000) problems.push(`our reading took ${ms} ms`);
  return { archive, ours, gnu, go, problems, overRefusal, ms };
}

describe('differential against GNU tar and Go archive/tar', { skip }, () => {
  let tmp: string;
  let store: ContentStore;
  const verdicts: Verdict[] = [];

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-diff-'));
    store = await ContentStore.create(path.join(tmp, 'store'));
  });
  after(async () => {
    await store?.close();
    if (tmp) await run('rm', ['-rf', tmp]);
  });

  it(`${COUNT} generated archives (seed ${SEED}): we match where GNU tar and Go agree, refuse where not`, async () => {
    const started = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < COUNT) {
        const archive = generateArchive(SEED, next++);
        const work = path.join(tmp, String(archive.id));
        await fs.mkdir(work);
        const t0 = performance.now();
        const ours = await readOurs(archive.bytes, store);
        const ms = Math.round(performance.now() - t0);
        const [gnu, go] = await Promise.all([readGnu(archive.bytes, work), readGo(archive.bytes, work)]);
        verdicts.push(judge(archive, ours, gnu, go, ms));
        await run('rm', ['-rf', work]); // fs.rm stops at paths over PATH_MAX
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    verdicts.sort((a, b) => a.archive.id - b.archive.id);

    const bad = verdicts.filter((v) => v.problems.length > 0);
    const over = verdicts.filter((v) => v.overRefusal);
    const accepted = verdicts.filter((v) => v.ours.ok).length;
    console.log(
      `# differential: ${COUNT} archives in ${Date.now() - started} ms; we accept ${accepted}, ` +
        `refuse ${COUNT - accepted} (${over.length} of them both others accept); ${bad.length} violate the rule`,
    );
    for (const v of over)
      console.log(`#   refused though both agree: #${v.archive.id} ${v.ours.ok ? '' : v.ours.error}`);
    for (const v of bad) {
      console.log(`# VIOLATION #${v.archive.id} [${v.archive.features.join(' ')}]`);
      for (const p of v.problems) console.log(`#   ${p}`);
      console.log(
        `#   ours: ${v.ours.ok ? 'ok' : v.ours.error} | gnu: ${v.gnu.ok ? 'ok' : v.gnu.error} | go: ${v.go.ok ? 'ok' : v.go.error}`,
      );
    }
    if (process.env.RECHUNKER_DIFF_DUMP) {
      for (const v of bad)
        await fs.writeFile(path.join(process.env.RECHUNKER_DIFF_DUMP, `${v.archive.id}.tar`), v.archive.bytes);
    }
    assert.equal(bad.length, 0, `${bad.length} archives break the rule: #${bad.map((v) => v.archive.id).join(', #')}`);
    // The grammar must exercise both sides of the rule, or the test proves nothing.
    assert.ok(accepted > COUNT / 4, `only ${accepted} of ${COUNT} archives accepted: the grammar is too hostile`);
    assert.ok(COUNT - accepted > COUNT / 10, 'almost nothing refused: the grammar is too tame');
  });
});
