#!/usr/bin/env node
import { execute } from '@oclif/core';

// skopeo and podman spell boolean options with a value (--tls-verify=false); oclif's booleans
// take --tls-verify / --no-tls-verify, so translate the spelling users already type.
const args = process.argv.slice(2).map((a) => {
  const m = /^--(tls-verify)=(true|false)$/.exec(a);
  return m ? (m[2] === 'true' ? `--${m[1]}` : `--no-${m[1]}`) : a;
});

await execute({ args, dir: import.meta.url });
