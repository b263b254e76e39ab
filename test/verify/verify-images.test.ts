import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostPlatform } from '../../src/oci/platform.js';
import { formatDifference } from '../../src/verify/compare.js';
import { verifyImages } from '../../src/engine/verify-images.js';
import { makeImage } from '../helpers/make-image.js';
import { makeTar, type EntrySpec } from '../helpers/make-tar.js';

const d = (p: string, mode = 0o755): EntrySpec => ({ path: p, type: 'dir', mode, mtimeSec: 1000 });
const f = (p: string, body: string, more: Partial<EntrySpec> = {}): EntrySpec => ({
  path: p,
  body,
  mtimeSec: 1000,
  ...more,
});

/** One tree, and a copy that differs in exactly four ways. */
function tree(variant: 'a' | 'b'): EntrySpec[] {
  const b = variant === 'b';
  return [
    d('bin'),
    f('bin/one', 'same bytes'),
    b ? f('bin/two', 'same bytes') : { path: 'bin/two', type: 'hardlink', linkname: 'bin/one', mtimeSec: 1000 },
    d('etc'),
    f('etc/conf', 'x', { xattrs: { 'security.capability': Buffer.from(b ? [1, 0, 0, 2] : [1, 0, 0, 3]) } }),
    { path: 'link', type: 'symlink', linkname: b ? 'bin/two' : 'bin/one', mtimeSec: 1000 },
    d('srv', b ? 0o700 : 0o755),
    f('srv/data', 'd'),
  ];
}

describe('verify', () => {
  let work: string;
  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'verify-images-'));
    await makeImage(work, 'a', [await makeTar(tree('a'))]);
    await makeImage(work, 'b', [await makeTar(tree('b'))]);
    // The same tree in two layers, the second leaving bin and srv implied.
    const all = tree('a');
    const upper = ['srv/data', 'link'];
    await makeImage(work, 'split', [
      await makeTar(all.filter((e) => !upper.includes(e.path))),
      await makeTar(all.filter((e) => upper.includes(e.path))),
    ]);
  });
  after(() => fs.rm(work, { recursive: true, force: true }));

  const refs = (x: string, y: string) => ({ a: `oci:${work}:${x}`, b: `oci:${work}:${y}`, platform: hostPlatform() });

  it('reports exactly an xattr, a directory mode, a hardlink set and a symlink target, each with its path', async () => {
    const r = await verifyImages({ ...refs('a', 'b'), models: ['oci', 'overlay', 'delegate'] });
    for (const m of r.models) {
      assert.deepEqual(
        m.differences.map((x) => [x.path, x.kind, x.fields.map((y) => y.field)]),
        [
          ['bin/one', 'differs', ['hardlinks']],
          ['etc/conf', 'differs', ['xattrs']],
          ['link', 'differs', ['symlink']],
          ['srv', 'differs', ['mode']],
        ],
        m.model,
      );
    }
    const lines = r.models[0]!.differences.map(formatDifference);
    assert.equal(lines[0], 'bin/one (file): hardlinks bin/one, bin/two -> none');
    assert.equal(
      lines[1],
      'etc/conf (file): xattrs[security.capability] security.capability=0x01000003 -> security.capability=0x01000002',
    );
    assert.equal(lines[2], 'link (symlink): symlink bin/one -> bin/two');
    assert.equal(lines[3], 'srv (dir): mode 0755 -> 0700');
    assert.equal(r.differences, 12);
  });

  it('an image equals itself under every model', async () => {
    const r = await verifyImages({ ...refs('a', 'a'), models: ['oci', 'overlay', 'delegate'] });
    assert.equal(r.differences, 0);
    assert.deepEqual(
      r.models.map((m) => m.entries.a),
      [8, 8, 8],
    );
  });

  it('layers that leave a directory implied: shadowed under overlay only', async () => {
    const r = await verifyImages({ ...refs('split', 'a'), models: ['oci', 'overlay', 'delegate'] });
    const [oci, overlay, delegate] = r.models;
    assert.deepEqual(oci!.differences, []);
    assert.deepEqual(delegate!.differences, []);
    assert.deepEqual(
      overlay!.differences.map((x) => [x.path, x.kind]),
      [['srv', 'shadowed']],
    );
    assert.equal(overlay!.defaulted.a, 1);
    assert.equal(
      formatDifference(overlay!.differences[0]!),
      'srv (dir): shadowed (default metadata): mtime unpack-time -> 1970-01-01T00:16:40Z',
    );
  });
});
