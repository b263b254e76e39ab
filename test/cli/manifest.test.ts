import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

// Whether oclif.manifest.json is current is checked by scripts/check-source.mjs, which regenerates it.
describe('cli', () => {
  it('rechunk --help shows usage and examples', async () => {
    const r = await runCli(['rechunk', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /USAGE/);
    assert.match(r.stdout, /EXAMPLES/);
    assert.match(r.stdout, /--max-layers/);
  });

  it('usage errors exit 2 without a stack trace', async () => {
    const r = await runCli(['rechunk', 'oci:a', 'oci:b', '--max-layers', '1']);
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const bad = await runCli(['rechunk', 'nonsense', 'oci:b']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^rechunker: error \[BAD_REFERENCE\]: invalid image reference "nonsense"/);
  });

  it('--json reports errors as JSON on stdout', async () => {
    const r = await runCli(['rechunk', 'oci:/nonexistent/layout:x', 'oci:/tmp/never', '--json']);
    assert.equal(r.code, 1);
    assert.deepEqual(Object.keys(JSON.parse(r.stdout).error).sort(), ['code', 'message']);
  });
});

describe('copy', () => {
  it('refuses a directory, which has no layers, and says what to do instead', async () => {
    const r = await runCli(['copy', 'rootfs:/usr/share/doc', 'oci:/tmp/never-written:x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^rechunker: error \[USAGE\]: rootfs:\/usr\/share\/doc: a directory has no layers to copy/);
    await assert.rejects(fs.access('/tmp/never-written'));
  });
});
