#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=30
// --max-semi-space-size=2: a young generation of 2 MiB semi-spaces instead of 16 keeps ~30 MB of
// short-lived chunk garbage out of the resident set (corpus `updated`: peak RSS 120 MB against 148 MB,
// the same CPU time). --heap-growing-percent=30: the old generation grows by 30 % of what was live
// at the last full collection instead of up to 4 times, so a large image's file graph does not
// bring as much garbage again with it (250,000 files: peak RSS 245-250 MB against 295-302 MB, the
// same CPU time; the corpus is unchanged). See BENCHMARKS.md.
// `--version` alone needs nothing of oclif (~150 modules, most of a ~0.5 s start): print what oclif
// prints for it (its versionDetails) from package.json.
if (process.argv.length === 3 && process.argv[2] === '--version') {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.oclif.bin}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  process.exit(0);
}
// @oclif/core checks, as it loads, that this node satisfies its own `engines` range, with semver
// (some 40 modules, ~20 ms of a ~0.2 s start). Ours (package.json, node >= 20.15, for zlib.crc32) is stricter, so
// skip that check, and leave the environment as it was for anything we start.
const ownEnv = process.env.OCLIF_DISABLE_ENGINE_WARNING;
process.env.OCLIF_DISABLE_ENGINE_WARNING = 'true';
const { execute } = await import('@oclif/core');
if (ownEnv === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
else process.env.OCLIF_DISABLE_ENGINE_WARNING = ownEnv;

await execute({ dir: import.meta.url });
