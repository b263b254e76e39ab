#!/usr/bin/env node
// The source-tree rules a linter does not know (issue 11), one line per offence, exit 1 if any:
//   - no two files under src/ share a base name (index.ts and types.ts aside), and none is over 350 lines;
//   - every file under src/ lies in a layer of scripts/layers.cjs (the import rules are .dependency-cruiser.cjs);
//   - no line in src/, commands/, test/ or bench/ is over 160 characters (the formatter wraps code at 120, but cannot
//     break a long string or comment);
//   - every repository path that README.md, BENCHMARKS.md or a code comment cites exists;
//   - oclif.manifest.json is what `oclif manifest` makes of the built dist/ (skipped with --no-manifest).
// Plain Node, no dependencies: `node scripts/check-source.mjs [--warn=RULE,...] [--no-manifest]`. Each offence names
// its rule (name, size, layer, line, cite, manifest); the rules listed in --warn report but do not fail.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { layers } = createRequire(import.meta.url)('./layers.cjs');
const MAX_FILE_LINES = 350;
const MAX_LINE = 160;
const SHARED_NAMES = new Set(['index.ts', 'types.ts']);
const warnOnly = new Set(
  process.argv
    .find((a) => a.startsWith('--warn='))
    ?.slice(7)
    .split(',') ?? [],
);
const problems = [];
const problem = (rule, where, what) => problems.push({ rule, text: `${where}: ${what} [${rule}]` });

/** Files under a repository folder, as repository-relative paths with '/' separators. */
function walk(dir) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    return e.isDirectory() ? walk(rel) : [rel];
  });
}
const read = (rel) => fs.readFileSync(path.join(root, rel), 'utf8');
const isCode = (f) => /\.(ts|mjs|cjs|js)$/.test(f);

const src = walk('src').filter(isCode);
const byName = new Map();
for (const f of src) {
  const name = path.posix.basename(f);
  if (!SHARED_NAMES.has(name)) byName.set(name, [...(byName.get(name) ?? []), f]);
  const lines = read(f).split('\n').length - 1;
  if (lines > MAX_FILE_LINES) problem('size', f, `${lines} lines (at most ${MAX_FILE_LINES}): split it by concept`);
  if (!layers.some(([, paths]) => paths.some((p) => new RegExp(`^${p}`).test(f)))) {
    problem('layer', f, 'in no layer of scripts/layers.cjs: move it, or give its folder a layer there');
  }
}
for (const [name, files] of byName)
  if (files.length > 1) problem('name', files.join(', '), `share the base name ${name}`);

const code = ['src', 'commands', 'test', 'bench', 'examples', 'scripts', 'bin'].flatMap(walk).filter(isCode);
for (const f of code.filter((c) => /^(src|commands|test|bench)\//.test(c))) {
  read(f)
    .split('\n')
    .forEach((line, i) => {
      const n = [...line].length;
      if (n > MAX_LINE) problem('line', `${f}:${i + 1}`, `${n} characters (at most ${MAX_LINE})`);
    });
}

// A cited path starts with a top-level folder of the repository; templates (<name>, *, {a,b}) and line
// suffixes (:12) are not checked literally.
const CITED = /(?<![\w./-])((?:src|commands|test|bench|examples|scripts|bin|corpus|\.ci)\/[\w./<>*{}-]*[\w/*>}])/g;
function checkCitations(where, text) {
  for (const [, cited] of text.matchAll(CITED)) {
    if (/[<>*{}]/.test(cited)) continue;
    if (!fs.existsSync(path.join(root, cited))) problem('cite', where, `cites ${cited}, which does not exist`);
  }
}
for (const doc of ['README.md', 'BENCHMARKS.md']) {
  read(doc)
    .split('\n')
    .forEach((line, i) => checkCitations(`${doc}:${i + 1}`, line));
}
for (const f of code) {
  read(f)
    .split('\n')
    .forEach((line, i) => {
      const comment = /^\s*(\*|\/\*)/.test(line) ? line : /(^|\s)\/\/(.*)$/.exec(line)?.[2];
      if (comment) checkCitations(`${f}:${i + 1}`, comment);
    });
}

if (!process.argv.includes('--no-manifest')) checkManifest();

/** Regenerates the manifest from dist/ into a scratch copy of the package and compares it with the committed one. */
function checkManifest() {
  if (!fs.existsSync(path.join(root, 'dist', 'commands'))) {
    return problem('manifest', 'oclif.manifest.json', 'cannot check: dist/commands is missing (npm run build first)');
  }
  // oclif manifest deletes ./oclif.manifest.json before it writes PATH/oclif.manifest.json: run it in the copy.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rechunker-manifest-'));
  try {
    fs.copyFileSync(path.join(root, 'package.json'), path.join(tmp, 'package.json'));
    // dist/ is copied, not linked: the manifest records each command's path as oclif finds it on disk.
    fs.cpSync(path.join(root, 'dist'), path.join(tmp, 'dist'), { recursive: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(tmp, 'node_modules'));
    const run = spawnSync(path.join(root, 'node_modules', '.bin', 'oclif'), ['manifest', tmp], {
      cwd: tmp,
      encoding: 'utf8',
    });
    if (run.status !== 0)
      return problem('manifest', 'oclif.manifest.json', `oclif manifest failed: ${run.stderr.trim()}`);
    const fresh = JSON.parse(fs.readFileSync(path.join(tmp, 'oclif.manifest.json'), 'utf8'));
    const committed = JSON.parse(read('oclif.manifest.json'));
    if (!isDeepStrictEqual(fresh, committed)) {
      const ids = Object.keys(fresh.commands).filter(
        (id) => !isDeepStrictEqual(fresh.commands[id], committed.commands?.[id]),
      );
      problem(
        'manifest',
        'oclif.manifest.json',
        `stale (differs in: ${ids.join(', ') || 'its header'}): regenerate with npm run manifest`,
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

for (const p of problems) console.error(p.text);
const failing = problems.filter((p) => !warnOnly.has(p.rule)).length;
const warned = [...warnOnly].join(', ') || 'none';
console.error(`check-source: ${problems.length} problems, ${failing} failing (warn only: ${warned})`);
process.exitCode = failing ? 1 : 0;
