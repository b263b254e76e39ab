import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostPlatform } from '../../src/oci/platform.js';
import { verifyImages } from '../../src/engine/verify-images.js';
import { makeImage } from '../helpers/make-image.js';
import { makeTar } from '../helpers/make-tar.js';

/** verify IMAGE rootfs:DIR: the tree an image was made from is the same under every model. */
describe('verify against a directory', () => {
  let work: string;
  let tree: string;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'verify-rootfs-'));
    tree = path.join(work, 'tree');
    await fs.mkdir(path.join(tree, 'etc'), { recursive: true });
    await fs.writeFile(path.join(tree, 'etc', 'a'), 'a');
    await fs.writeFile(path.join(tree, 'etc', 'b'), 'b');
    await fs.chmod(path.join(tree, 'etc'), 0o750);
    await fs.chmod(path.join(tree, 'etc', 'a'), 0o644);
    await fs.chmod(path.join(tree, 'etc', 'b'), 0o644);
    for (const p of ['etc/a', 'etc/b', 'etc']) await fs.utimes(path.join(tree, p), 1000, 1000);
    const meta = { uid, gid, mtimeSec: 1000 };
    const etc = { path: 'etc', type: 'dir' as const, mode: 0o750, ...meta };
    // etc is described in the first layer only: the second one implies it.
    await makeImage(path.join(work, 'layout'), 'split', [
      await makeTar([etc, { path: 'etc/a', body: 'a', mode: 0o644, ...meta }]),
      await makeTar([{ path: 'etc/b', body: 'b', mode: 0o644, ...meta }]),
    ]);
  });
  after(() => fs.rm(work, { recursive: true, force: true }));

  it('oci and delegate find the image equal to its tree; overlay names the shadowed directory', async () => {
    const r = await verifyImages({
      a: `oci:${path.join(work, 'layout')}:split`,
      b: `rootfs:${tree}`,
      models: ['oci', 'overlay', 'delegate'],
      platform: hostPlatform(),
    });
    assert.equal(r.b.layers, 0, 'a directory has no layers');
    const byModel = Object.fromEntries(r.models.map((m) => [m.model, m.differences.map((d) => `${d.path} ${d.kind}`)]));
    assert.deepEqual(byModel, { oci: [], overlay: ['etc shadowed'], delegate: [] });
  });
});
