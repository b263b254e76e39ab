#!/usr/bin/env node
// @oclif/core checks, as it loads, that this node satisfies its own `engines` range, with semver
// (some 40 modules, ~20 ms of a ~0.2 s start). Ours (package.json, node >= 20) is stricter, so
// skip that check, and leave the environment as it was for anything we start.
const ownEnv = process.env.OCLIF_DISABLE_ENGINE_WARNING;
process.env.OCLIF_DISABLE_ENGINE_WARNING = 'true';
const { execute } = await import('@oclif/core');
if (ownEnv === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
else process.env.OCLIF_DISABLE_ENGINE_WARNING = ownEnv;

// skopeo and podman spell boolean options with a value (--tls-verify=false, any value Go's
// ParseBool takes); oclif's booleans take --tls-verify / --no-tls-verify, so translate the
// spelling users already type.
const args = process.argv.slice(2).map((a) => {
  const m = /^--(tls-verify)=(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.exec(a);
  return m ? (/^(1|t|true)$/i.test(m[2]) ? `--${m[1]}` : `--no-${m[1]}`) : a;
});

await execute({ args, dir: import.meta.url });
