import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSink } from '../../src/engine/open-reference.js';
import { rechunk } from '../../src/engine/rechunk.js';
import { newEntry } from '../../src/tar/entry.js';
import { makeDirs } from '../../src/util/make-dirs.js';
import { runCli } from '../helpers/cli.js';
import { makeImage, tarBytes } from '../helpers/make-image.js';
import { opener, blob } from '../helpers/test-image.js';

/**
 * A destination that cannot be written fails at once, with one line naming the reference and the
 * real errno (never a temporary file), and leaves no directory the run made.
 */
let tmp: string;
let image: string;
const mounts: string[] = [];

/** A tmpfs of our own (read-only or tiny), or undefined where this process may not mount. */
function tmpfs(dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    mounts.push(dir);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-dest-errors-'));
  // 300 kB that do not compress: more than the tiny filesystems below hold.
  const big = randomBytes(300_000);
  const tar = await tarBytes([
    { entry: newEntry('etc', 'dir') },
    { entry: newEntry('etc/hostname', 'file', { size: 5 }), body: Buffer.from('host\n') },
    { entry: newEntry('opt', 'dir') },
    { entry: newEntry('opt/blob', 'file', { size: big.length }), body: big },
  ]);
  await makeImage(path.join(tmp, 'src'), 'v1', [tar]);
  image = `oci:${path.join(tmp, 'src')}:v1`;
});
after(async () => {
  for (const m of mounts) execFileSync('umount', [m], { stdio: 'ignore' });
  await fs.rm(tmp, { recursive: true, force: true });
});

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line of error, got:\n${stderr}`);
  assert.doesNotMatch(lines[0]!, /\.tmp-|\n\s+at /, 'no temporary file name, no stack');
  return lines[0]!;
}

describe('destination errors', () => {
  it('makeDirs under /proc fails with ENOENT instead of spinning', async () => {
    const t0 = Date.now();
    await assert.rejects(makeDirs('/proc/rechunker-test/a/b'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    assert.ok(Date.now() - t0 < 1000);
  });

  it('rechunk to oci:/proc/... fails in under a second, naming the reference', async () => {
    const t0 = Date.now();
    await assert.rejects(
      rechunk({
        source: image,
        destination: 'oci:/proc/rk:t',
        platform: { os: 'linux', architecture: 'amd64' },
        maxLayers: 4,
        compression: 'gzip',
        workDir: tmp,
      }),
      (e: Error & { code?: string }) => {
        assert.match(e.message, /^oci:\/proc\/rk:t: ENOENT/);
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
  });

  it('copy to oci:/proc/... through the CLI: one [NOT_FOUND] line, exit 1', async () => {
    const r = await runCli(['copy', image, 'oci:/proc/rk:t', '-q']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r.stderr), /^rechunker: error \[NOT_FOUND\]: oci:\/proc\/rk:t: ENOENT/);
  });

  it('a read-only destination is EROFS, not ENOENT, for oci: and oci-archive:', async (t) => {
    const ro = path.join(tmp, 'ro');
    await fs.mkdir(ro);
    if (!tmpfs(ro, 'ro,size=1m')) return t.skip('cannot mount a tmpfs here');
    for (const dest of [`oci:${ro}/out/layout:t`, `oci-archive:${ro}/out/a.tar:t`]) {
      const r = await runCli(['rechunk', image, dest, '-q', '--work-dir', tmp]);
      assert.equal(r.code, 1, r.stderr);
      // Checked before any work (check-destination.ts) or met by the write: EROFS either way.
      const line = oneLine(r.stderr);
      assert.ok(line.startsWith(`rechunker: error [IO]: ${dest}: `), line);
      assert.match(line, /EROFS/);
      assert.doesNotMatch(line, /ENOENT/);
    }
    // The sink itself, where no check ran before it.
    const sink = await openSink(`oci:${ro}/out/layout:t`);
    const b = blob(Buffer.from('abc'), 'application/octet-stream');
    await assert.rejects(sink.putBlob(b.desc, opener(b)), (e: Error) => {
      assert.match(
        e.message,
        new RegExp(`^oci:${ro}/out/layout:t: EROFS: read-only file system .*read-only filesystem`),
      );
      return true;
    });
    await sink.close();
  });

  it('ENOSPC says the destination is full, and the directories the run made go again', async (t) => {
    const small = path.join(tmp, 'small');
    await fs.mkdir(small);
    if (!tmpfs(small, 'size=64k')) return t.skip('cannot mount a tmpfs here');
    for (const dest of [`oci:${small}/made/layout:t`, `oci-archive:${small}/made/deeper/a.tar:t`]) {
      const r = await runCli(['rechunk', image, dest, '-q', '--work-dir', tmp]);
      assert.equal(r.code, 1, r.stderr);
      const line = oneLine(r.stderr);
      assert.ok(line.includes(`${dest}: ENOSPC`), line);
      assert.match(line, /the destination is full/);
      assert.deepEqual(await fs.readdir(small), [], 'nothing left on the destination filesystem');
    }
  });

  it('ENOSPC in the work directory says so and names --work-dir', async (t) => {
    const small = path.join(tmp, 'smallwork');
    await fs.mkdir(small);
    if (!tmpfs(small, 'size=64k')) return t.skip('cannot mount a tmpfs here');
    const archive = `oci-archive:${path.join(tmp, 'big.tar')}:t`;
    assert.equal((await runCli(['copy', image, archive, '-q'])).code, 0);
    // The content store (rechunk) and an archive's unpacked layout (copy) both live there.
    for (const args of [
      ['rechunk', image],
      ['copy', archive],
    ]) {
      const r = await runCli([...args, `oci:${path.join(tmp, 'w-out')}:t`, '-q', '--work-dir', small]);
      assert.equal(r.code, 1, r.stderr);
      const line = oneLine(r.stderr);
      assert.ok(line.includes(`work directory ${small}`), line);
      // rechunk measures the room first (check-destination.ts); copy meets ENOSPC.
      if (args[0] === 'copy')
        assert.match(
          line,
          /ENOSPC: no space left on device \(the work directory is full; choose another with --work-dir\)/,
        );
      assert.match(line, /choose another with --work-dir/);
      assert.deepEqual(await fs.readdir(small), [], 'the work directory is cleaned');
    }
  });

  it('oci: and oci-archive: both make a missing parent directory', async () => {
    for (const dest of [`oci:${tmp}/p1/q/layout:t`, `oci-archive:${tmp}/p2/q/a.tar:t`]) {
      const r = await runCli(['copy', image, dest, '-q']);
      assert.equal(r.code, 0, `${dest}: ${r.stderr}`);
    }
    await fs.access(path.join(tmp, 'p1/q/layout/index.json'));
    await fs.access(path.join(tmp, 'p2/q/a.tar'));
  });

  it('a failed layout write removes the layout directory it created', async () => {
    const dest = path.join(tmp, 'made-then-failed', 'sub');
    const sink = await openSink(`oci:${dest}:t`);
    const b = blob(Buffer.from('abc'), 'application/octet-stream');
    await sink.putBlob(b.desc, opener(b));
    await fs.access(dest);
    await assert.rejects(sink.putBlob({ ...b.desc, digest: `sha256:${'0'.repeat(64)}` }, opener(b)));
    await sink.close();
    await assert.rejects(fs.access(path.join(tmp, 'made-then-failed')), 'gone, with the parent it made');
  });
});
