import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VerifyResult } from '../../src/engine/verify-images.js';
import { runCli } from '../helpers/cli.js';
import { makeImage } from '../helpers/make-image.js';
import { makeTar } from '../helpers/make-tar.js';

describe('rechunker verify (cli)', () => {
  let work: string;
  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'verify-cli-'));
    const dir = { path: 'etc', type: 'dir' as const, mode: 0o750, mtimeSec: 1000 };
    await makeImage(work, 'flat', [await makeTar([dir, { path: 'etc/a', body: 'a' }, { path: 'etc/b', body: 'b' }])]);
    await makeImage(work, 'split', [
      await makeTar([dir, { path: 'etc/a', body: 'a' }]),
      await makeTar([{ path: 'etc/b', body: 'b' }]),
    ]);
  });
  after(() => fs.rm(work, { recursive: true, force: true }));

  it('exits 0 when the images agree under the model', async () => {
    const r = await runCli(['verify', `oci:${work}:flat`, `oci:${work}:split`, '--model', 'oci']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^oci: no differences/);
  });

  it('exits 1 and names the shadowed directory under overlay, in text and in --json', async () => {
    const r = await runCli(['verify', `oci:${work}:split`, `oci:${work}:flat`, '--model', 'all']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /overlay: 1 difference\(s\), 1 shadowed directories/);
    assert.match(
      r.stdout,
      /etc \(dir\): shadowed \(default metadata\): mode 0755 -> 0750; mtime unpack-time -> 1970-01-01T00:16:40Z/,
    );
    const j = await runCli(['verify', `oci:${work}:split`, `oci:${work}:flat`, '--model', 'all', '--json']);
    assert.equal(j.code, 1);
    const result = JSON.parse(j.stdout) as VerifyResult;
    assert.deepEqual(
      result.models.map((m) => [m.model, m.differences.length]),
      [
        ['oci', 0],
        ['overlay', 1],
        ['delegate', 0],
        ['containerd', 1],
      ],
    );
    assert.equal(result.a.layers, 2);
  });

  it('--help shows the models and examples', async () => {
    const r = await runCli(['verify', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--model/);
    assert.match(r.stdout, /EXAMPLES/);
    assert.match(r.stdout, /rootfs:DIR/);
  });
});
