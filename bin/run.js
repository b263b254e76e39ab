#!/usr/bin/env node
// @oclif/core checks, as it loads, that this node satisfies its own `engines` range, with semver
// (some 40 modules, ~20 ms of a ~0.2 s start). Ours (package.json, node >= 20) is stricter, so
// skip that check, and leave the environment as it was for anything we start.
const ownEnv = process.env.OCLIF_DISABLE_ENGINE_WARNING;
process.env.OCLIF_DISABLE_ENGINE_WARNING = 'true';
const { execute } = await import('@oclif/core');
if (ownEnv === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
else process.env.OCLIF_DISABLE_ENGINE_WARNING = ownEnv;

await execute({ dir: import.meta.url });
