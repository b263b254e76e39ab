import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { sha256 } from '../../src/oci/digest.js';
import { newEntry } from '../../src/tar/entry.js';
import { runCli } from '../helpers/cli.js';
import { makeImage, tarBytes } from '../helpers/make-image.js';
// Our own writer refuses hostile paths, so hostile archives are built header by header.
import { END, rawEntry } from '../helpers/make-tar.js';

/**
 * Each kind of bad input must end in one line naming the problem and where, exit status 1, no
 * stack trace, and nothing tagged at the destination.
 */
let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-bad-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const goodTar = () =>
  tarBytes([
    { entry: newEntry('etc', 'dir') },
    { entry: newEntry('etc/hostname', 'file', { size: 5 }), body: Buffer.from('host\n') },
  ]);

async function expectFailure(
  name: string,
  code: string,
  mention: RegExp,
  prepare: (dir: string) => Promise<string>,
  command: 'rechunk' | 'copy' = 'rechunk',
): Promise<void> {
  const src = path.join(tmp, name);
  const out = path.join(tmp, `${name}-out`);
  const ref = await prepare(src);
  const r = await runCli([command, ref, `oci:${out}:result`], {}, 120_000);
  assert.equal(r.code, 1, `exit status for ${name}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line of error for ${name}, got:\n${r.stderr}`);
  assert.match(lines[0]!, new RegExp(`^rechunker: error \\[(?:${code})\\]: `));
  assert.match(lines[0]!, mention);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const index = await fs.readFile(path.join(out, 'index.json'), 'utf8').catch(() => '{"manifests":[]}');
  assert.doesNotMatch(index, /"result"/, 'nothing tagged at the destination');
  const leftovers = await fs.readdir(path.join(out, 'blobs', 'sha256')).catch(() => [] as string[]);
  assert.deepEqual(
    leftovers.filter((f) => f.startsWith('.tmp')),
    [],
    'no temporary blobs left behind',
  );
}

function mkfifo(file: string): Promise<void> {
  return new Promise((resolve, reject) => execFile('mkfifo', [file], (err) => (err ? reject(err) : resolve())));
}

async function corruptBlob(dir: string, digest: string, edit: (b: Buffer) => Buffer): Promise<void> {
  const file = path.join(dir, 'blobs', 'sha256', digest.slice(7));
  await fs.writeFile(file, edit(await fs.readFile(file)));
}

describe('bad input', () => {
  it('missing layer blob', () =>
    expectFailure('missing', 'NOT_FOUND', /layer 1\/1.*missing/, async (dir) => {
      const img = await makeImage(dir, 'v1', [await goodTar()]);
      await fs.rm(path.join(dir, 'blobs', 'sha256', img.layers[0]!.digest.slice(7)));
      return `oci:${dir}:v1`;
    }));

  it('layer blob whose bytes do not match its digest', () =>
    expectFailure('mismatch', 'DIGEST_MISMATCH', /layer 1\/1/, async (dir) => {
      const other = zlib.gzipSync(
        await tarBytes([{ entry: newEntry('x', 'file', { size: 1 }), body: Buffer.from('y') }]),
      );
      const img = await makeImage(dir, 'v1', [await goodTar()]);
      // Same length, other content: only the digest can tell.
      await corruptBlob(dir, img.layers[0]!.digest, (b) =>
        Buffer.concat([other, Buffer.alloc(Math.max(0, b.length - other.length))]).subarray(0, b.length),
      );
      return `oci:${dir}:v1`;
    }));

  it('copy of a small blob whose bytes do not match its digest (it fails before the copy listens)', () =>
    expectFailure(
      'copy-mismatch',
      'DIGEST_MISMATCH',
      /content hashes to/,
      async (dir) => {
        const img = await makeImage(dir, 'v1', [await goodTar()]);
        await corruptBlob(dir, img.layers[0]!.digest, (b) => {
          b[4] ^= 0xff; // the gzip header's mtime: still valid gzip, another digest
          return b;
        });
        return `oci:${dir}:v1`;
      },
      'copy',
    ));

  it('corrupt compressed data', () =>
    expectFailure('corrupt', 'DIGEST_MISMATCH|CORRUPT_BLOB', /layer 1\/1/, async (dir) => {
      const img = await makeImage(dir, 'v1', [await goodTar()]);
      await corruptBlob(dir, img.layers[0]!.digest, (b) => {
        b[Math.floor(b.length / 2)] ^= 0xff;
        return b;
      });
      return `oci:${dir}:v1`;
    }));

  it('truncated gzip stream with a consistent descriptor', () =>
    expectFailure('truncated', 'CORRUPT_BLOB', /layer 1\/1.*(truncated|corrupt)/, async (dir) => {
      await makeImage(dir, 'v1', [await goodTar()], { alterBlob: (gz) => gz.subarray(0, gz.length - 12) });
      return `oci:${dir}:v1`;
    }));

  it('tar entry with ".." in its path', () =>
    expectFailure('dotdot', 'UNSAFE_PATH', /^(?!.*layer 1\/1.*layer 1\/1).*\.\.\/etc\/passwd/, async (dir) => {
      await makeImage(dir, 'v1', [
        Buffer.concat([rawEntry({ name: '../etc/passwd', size: 2 }, Buffer.from('x\n')), END]),
      ]);
      return `oci:${dir}:v1`;
    }));

  it('tar entry with an absolute path', () =>
    expectFailure('absolute', 'UNSAFE_PATH', /\/etc\/shadow/, async (dir) => {
      await makeImage(dir, 'v1', [
        Buffer.concat([rawEntry({ name: '/etc/shadow', size: 2 }, Buffer.from('x\n')), END]),
      ]);
      return `oci:${dir}:v1`;
    }));

  it('entry written through a symlink that points outside', () =>
    expectFailure('symlink-escape', 'UNSAFE_PATH', /evil.*symlink/, async (dir) => {
      await makeImage(dir, 'v1', [
        await tarBytes([
          { entry: newEntry('evil', 'symlink', { linkname: '/etc' }) },
          { entry: newEntry('evil/passwd', 'file', { size: 2 }), body: Buffer.from('x\n') },
        ]),
      ]);
      return `oci:${dir}:v1`;
    }));

  it('hardlink to a path outside the image', () =>
    expectFailure('hardlink-escape', 'UNSAFE_PATH', /\.\.\/\.\.\/etc\/passwd/, async (dir) => {
      await makeImage(dir, 'v1', [
        Buffer.concat([rawEntry({ name: 'link', typeflag: '1', linkname: '../../etc/passwd' }), END]),
      ]);
      return `oci:${dir}:v1`;
    }));

  it('manifest that does not parse', () =>
    expectFailure('bad-manifest', 'BAD_MANIFEST', /manifest/, async (dir) => {
      await makeImage(dir, 'v1', [await goodTar()]);
      const bytes = Buffer.from('{"schemaVersion": 2, "layers": [');
      await fs.writeFile(path.join(dir, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes);
      const index = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8'));
      index.manifests[0] = { ...index.manifests[0], digest: sha256(bytes), size: bytes.length };
      await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify(index));
      return `oci:${dir}:v1`;
    }));

  it('manifest naming a blob by a hostile digest', () =>
    expectFailure('hostile-digest', 'BAD_MANIFEST', /invalid or unsupported digest/, async (dir) => {
      await makeImage(dir, 'v1', [await goodTar()]);
      const index = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8'));
      index.manifests[0].digest = 'sha256:../../../../etc/passwd';
      await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify(index));
      return `oci:${dir}:v1`;
    }));

  it('config diff_id that does not match the layer', () =>
    expectFailure('diffid', 'DIGEST_MISMATCH', /diff_id/, async (dir) => {
      await makeImage(dir, 'v1', [await goodTar()], {
        config: { rootfs: { type: 'layers', diff_ids: [sha256('something else')] } },
      });
      return `oci:${dir}:v1`;
    }));

  it('unknown tag', () =>
    expectFailure('no-tag', 'NOT_FOUND', /no tag "nope"/, async (dir) => {
      await makeImage(dir, 'v1', [await goodTar()]);
      return `oci:${dir}:nope`;
    }));

  it('index.json entry of an unknown media type under the tag', () =>
    expectFailure('unknown-type', 'UNSUPPORTED', /tag "v1" names a application\/vnd\.example\.thing/, async (dir) => {
      await makeImage(dir, 'v1', [await goodTar()]);
      const file = path.join(dir, 'index.json');
      const index = JSON.parse(await fs.readFile(file, 'utf8')) as { manifests: { mediaType: string }[] };
      index.manifests[0]!.mediaType = 'application/vnd.example.thing';
      await fs.writeFile(file, JSON.stringify(index));
      return `oci:${dir}:v1`;
    }));

  it('an error raised with its layer named is not named twice', () =>
    expectFailure(
      'once',
      'UNSAFE_PATH',
      /^(?!.*layer 1\/1.*layer 1\/1).*layer 1\/1 .*"link", a symlink/,
      async (dir) => {
        const entries = [
          rawEntry({ name: 'link', typeflag: '2', linkname: '/etc' }),
          rawEntry({ name: 'link/passwd', size: 2 }, Buffer.from('x\n')),
        ];
        await makeImage(dir, 'v1', [Buffer.concat([...entries, END])]);
        return `oci:${dir}:v1`;
      },
    ));

  it('one tag on two manifests of one platform', () =>
    expectFailure(
      'twice-tagged',
      'NOT_FOUND',
      /gives tag "v1" to 2 manifests.*name the image by its digest/,
      async (dir) => {
        await makeImage(dir, 'v1', [await goodTar()]);
        const first = await fs.readFile(path.join(dir, 'index.json'), 'utf8');
        await makeImage(dir, 'other', [await tarBytes([{ entry: newEntry('x', 'dir') }])]);
        const index = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8'));
        index.manifests = [
          JSON.parse(first).manifests[0],
          { ...index.manifests.at(-1), annotations: JSON.parse(first).manifests[0].annotations },
        ];
        await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify(index));
        return `oci:${dir}:v1`;
      },
    ));

  it('truncated zstd stream with a consistent descriptor', () =>
    expectFailure('zstd-truncated', 'CORRUPT_BLOB', /layer 1\/1.*zstd data is corrupt or truncated/, async (dir) => {
      await makeImage(dir, 'v1', [await goodTar()], {
        compression: 'zstd',
        alterBlob: (b) => b.subarray(0, b.length - 8),
      });
      return `oci:${dir}:v1`;
    }));

  it('layer blob that is a FIFO (opening it would block for good)', () =>
    expectFailure('fifo-blob', 'BAD_MANIFEST', /layer 1\/1.*is a FIFO, not a regular file/, async (dir) => {
      const img = await makeImage(dir, 'v1', [await goodTar()]);
      const blob = path.join(dir, 'blobs', 'sha256', img.layers[0]!.digest.slice(7));
      await fs.rm(blob);
      await mkfifo(blob);
      return `oci:${dir}:v1`;
    }));

  it('index.json that is a FIFO', () =>
    expectFailure('fifo-index', 'BAD_MANIFEST', /index.json is a FIFO/, async (dir) => {
      await makeImage(dir, 'v1', [await goodTar()]);
      await fs.rm(path.join(dir, 'index.json'));
      await mkfifo(path.join(dir, 'index.json'));
      return `oci:${dir}:v1`;
    }));

  it('whiteout under a symlink (other unpackers remove what the link points to)', () =>
    expectFailure(
      'whiteout-symlink',
      'UNSAFE_PATH',
      /whiteout "bin\/\.wh\.sh" lies under "bin", a symlink/,
      async (dir) => {
        const lower = await tarBytes([
          { entry: newEntry('usr', 'dir') },
          { entry: newEntry('usr/bin', 'dir') },
          { entry: newEntry('usr/bin/sh', 'file', { size: 1 }), body: Buffer.from('x') },
          { entry: newEntry('bin', 'symlink', { linkname: 'usr/bin' }) },
        ]);
        await makeImage(dir, 'v1', [lower, await tarBytes([{ entry: newEntry('bin/.wh.sh', 'file') }])]);
        return `oci:${dir}:v1`;
      },
    ));

  it('whiteout with an empty name (other unpackers remove its directory)', () =>
    expectFailure('whiteout-bare', 'BAD_TAR', /whiteout "etc\/\.wh\." names ''/, async (dir) => {
      await makeImage(dir, 'v1', [await goodTar(), await tarBytes([{ entry: newEntry('etc/.wh.', 'file') }])]);
      return `oci:${dir}:v1`;
    }));

  it('index.json over its size limit, refused before it is read', () =>
    expectFailure('huge-index', 'BAD_MANIFEST', /index\.json is \d+ bytes, over the \d+ byte limit$/, async (dir) => {
      await makeImage(dir, 'v1', [await goodTar()]);
      await fs.truncate(path.join(dir, 'index.json'), 65 * 1024 * 1024);
      return `oci:${dir}:v1`;
    }));

  it('missing layout', () =>
    expectFailure('no-layout', 'NOT_FOUND', /not an OCI image layout/, async (dir) => `oci:${dir}:v1`));
});

describe('bad destination or work directory', () => {
  async function expectIoError(args: string[], mention: RegExp): Promise<void> {
    const src = path.join(tmp, 'dest-src');
    await fs.rm(src, { recursive: true, force: true });
    await makeImage(src, 'v1', [await goodTar()]);
    const r = await runCli(['rechunk', `oci:${src}:v1`, ...args]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line of error, got:\n${r.stderr}`);
    assert.match(lines[0]!, /^rechunker: error \[IO\]: /);
    assert.match(lines[0]!, mention);
  }

  it('a destination below a regular file', async () => {
    const file = path.join(tmp, 'a-file');
    await fs.writeFile(file, 'x');
    await expectIoError([`oci:${file}/out:t`], /ENOTDIR.*a-file/);
  });

  it('a containers-storage: name the store would refuse, before any work', async () => {
    const src = path.join(tmp, 'storage-name-src');
    await makeImage(src, 'v1', [await goodTar()]);
    for (const [dest, mention] of [
      ['containers-storage:Bad/Name:1', /"containers-storage:Bad\/Name:1": .*must be lowercase/],
      [`containers-storage:${'a'.repeat(64)}`, /an image id names an image already in the store/],
    ] as const) {
      const r = await runCli(['rechunk', `oci:${src}:v1`, dest]);
      assert.notEqual(r.code, 0);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, mention);
      assert.doesNotMatch(r.stderr, /skopeo/, 'our check, not the import at the end');
    }
  });

  it('a --work-dir that does not exist', () =>
    expectIoError(
      [`oci:${path.join(tmp, 'wd-out')}:t`, '--work-dir', path.join(tmp, 'no-such-dir')],
      /work directory .*no-such-dir/,
    ));
});

describe('usage errors', () => {
  async function expectUsage(args: string[], mention: RegExp): Promise<void> {
    const r = await runCli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line, not the usage screen:\n${r.stderr}`);
    assert.match(lines[0]!, /^rechunker: error \[USAGE\]: /);
    assert.match(lines[0]!, mention);
  }

  it('an unknown flag', () =>
    expectUsage(
      ['rechunk', 'oci:a', 'oci:b', '--bogus'],
      /Nonexistent flag: --bogus \(see rechunker rechunk --help\)$/,
    ));
  it('a flag value of the wrong type', () =>
    expectUsage(['plan', 'oci:a', '--max-layers', 'many'], /--max-layers.*many/));
  it('--creds without a password, before any work', () =>
    expectUsage(['copy', 'oci:a', 'oci:b', '--creds', 'alice'], /--creds takes USER:PASSWORD/));
  it('--config that never ends (/dev/zero), before any work', () =>
    expectUsage(['rechunk', 'oci:a', 'oci:b', '--config', '/dev/zero'], /--config \/dev\/zero: over \d+ bytes/));
  it('--prune=/ (everything but the root), before any work', () =>
    expectUsage(['rechunk', 'oci:a', 'oci:b', '--prune=/'], /--prune \/: would remove everything/));
  it('analyze with no references and an --index that does not exist, creating nothing', async () => {
    const index = path.join(tmp, 'no-such-index');
    await expectUsage(['analyze', '--index', index], /no images to analyze: give references, or an --index/);
    await assert.rejects(fs.access(index), 'the mistyped directory is not made');
  });
  for (const command of ['rechunk', 'copy'])
    it(`${command} --digestfile that cannot be written, before anything is tagged`, async () => {
      const dir = path.join(tmp, `digestfile-${command}`);
      await makeImage(dir, 'v1', [await goodTar()]);
      const out = path.join(tmp, `digestfile-${command}-out`);
      await expectUsage(
        [command, `oci:${dir}:v1`, `oci:${out}:v1`, '--digestfile', path.join(tmp, 'no-such-dir', 'digest')],
        /--digestfile .*no such directory/,
      );
      await assert.rejects(fs.access(out), 'nothing written at the destination');
    });
});
