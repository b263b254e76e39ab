import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { assembleTarSplit } from '../../src/storage/tar-split.js';
import { newEntry } from '../../src/tar/entry.js';
import type { TarWriteItem } from '../../src/tar/writer.js';
import { tarBytes } from '../helpers/make-image.js';
import { tarSplitOf } from './fake-store.js';

/**
 * Upper dirs written by the kernel's overlayfs with metacopy=on,redirect_dir=on (not xattrs set by
 * hand): a chmod leaves a metadata-only copy, a renamed dir a redirect, a renamed file both, and a
 * layer above such an upper sees the data two layers down. Each upper is read as a layer's diff dir
 * with a tar-split record, and the rebuilt tar must carry the data the merged mount showed.
 */

const skip =
  process.getuid?.() !== 0
    ? 'needs root (overlay mounts)'
    : !existsSync('/sys/module/overlay/parameters/metacopy') ||
        !existsSync('/sys/module/overlay/parameters/redirect_dir')
      ? "the kernel's overlayfs has no metacopy or redirect_dir"
      : undefined;

let dir = '';
const BIG = Buffer.alloc(3 << 20, 'large ');
const DEEP = Buffer.from('deep file\n');
const TOP = Buffer.from('top file\n');

/** Runs `script` with an rw overlay mounted at $M in a private mount namespace (gone when it exits). */
function withOverlay(lowers: string[], upper: string, script: string): void {
  const work = `${upper}.work`;
  execFileSync('mkdir', ['-p', upper, work, path.join(dir, 'm')]);
  const opts = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work},metacopy=on,redirect_dir=on`;
  execFileSync(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-ec', `mount -t overlay overlay -o ${opts} "$M"\n${script}`],
    {
      env: { ...process.env, M: path.join(dir, 'm') },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

function xattr(file: string, name: string): string | undefined {
  try {
    return execFileSync('getfattr', ['-h', '--only-values', '-n', name, file], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
  } catch {
    return undefined;
  }
}

async function rebuilt(items: TarWriteItem[], upper: string, lowers: string[]): Promise<{ tar: Buffer; got: Buffer }> {
  const tar = await tarBytes(items);
  const split = path.join(dir, `${path.basename(upper)}.tar-split.gz`);
  await fs.writeFile(split, gzipSync(tarSplitOf(tar)));
  const parts: Buffer[] = [];
  for await (const b of assembleTarSplit(split, upper, lowers)) parts.push(b);
  return { tar, got: Buffer.concat(parts) };
}

const d = (p: string): TarWriteItem => ({ entry: newEntry(p, 'dir') });
const f = (p: string, body: Buffer, mode = 0o644): TarWriteItem => ({
  entry: newEntry(p, 'file', { size: body.length, mode }),
  body,
});

before(async () => {
  if (skip) return;
  dir = await fs.mkdtemp('/var/tmp/rechunker-overlay-test-');
  const base = path.join(dir, 'l0');
  await fs.mkdir(path.join(base, 'big/tree/a/b'), { recursive: true });
  await fs.writeFile(path.join(base, 'big/large.bin'), BIG);
  await fs.writeFile(path.join(base, 'big/tree/a/b/f.txt'), DEEP);
  await fs.writeFile(path.join(base, 'big/tree/top.txt'), TOP);
  // One layer over the base: chmod, a dir renamed, a file in the renamed dir chmodded, a file renamed.
  withOverlay(
    [base],
    path.join(dir, 'u1'),
    [
      'chmod 600 "$M/big/large.bin"',
      'mv "$M/big/tree" "$M/big/moved"',
      'chmod 640 "$M/big/moved/a/b/f.txt"',
      'mv "$M/big/moved/top.txt" "$M/big/top-moved.txt"',
    ].join('\n'),
  );
  // A second layer over the first: its chmod copies up an entry whose data is two layers down.
  withOverlay([path.join(dir, 'u1'), base], path.join(dir, 'u2'), 'chmod 600 "$M/big/moved/a/b/f.txt"');
});

after(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

test('the kernel wrote metacopy and redirect entries into the upper dirs', (t) => {
  if (skip) return t.skip(skip);
  const u1 = path.join(dir, 'u1');
  assert.equal(xattr(path.join(u1, 'big/large.bin'), 'trusted.overlay.metacopy'), '');
  assert.equal(xattr(path.join(u1, 'big/moved'), 'trusted.overlay.redirect'), 'tree');
  assert.equal(xattr(path.join(u1, 'big/moved/a/b/f.txt'), 'trusted.overlay.metacopy'), '');
  assert.equal(xattr(path.join(u1, 'big/moved/a/b/f.txt'), 'trusted.overlay.redirect'), undefined);
  assert.equal(xattr(path.join(u1, 'big/top-moved.txt'), 'trusted.overlay.metacopy'), '');
  assert.equal(xattr(path.join(u1, 'big/top-moved.txt'), 'trusted.overlay.redirect'), '/big/tree/top.txt');
  assert.equal(xattr(path.join(dir, 'u2', 'big/moved/a/b/f.txt'), 'trusted.overlay.metacopy'), '');
});

test("a metacopy entry's data is read where overlayfs finds it: its own redirect and its dirs' redirects followed", async (t) => {
  if (skip) return t.skip(skip);
  const { tar, got } = await rebuilt(
    [
      d('big'),
      f('big/large.bin', BIG, 0o600),
      d('big/moved'),
      d('big/moved/a'),
      d('big/moved/a/b'),
      f('big/moved/a/b/f.txt', DEEP, 0o640),
      f('big/top-moved.txt', TOP),
    ],
    path.join(dir, 'u1'),
    [path.join(dir, 'l0')],
  );
  assert.equal(got.length, tar.length);
  assert.ok(got.equals(tar), 'the rebuilt tar holds the lower layer data');
});

test('a metacopy entry above a metacopy entry in a renamed dir finds the data two layers down', async (t) => {
  if (skip) return t.skip(skip);
  const { tar, got } = await rebuilt(
    [d('big'), d('big/moved'), d('big/moved/a'), d('big/moved/a/b'), f('big/moved/a/b/f.txt', DEEP, 0o600)],
    path.join(dir, 'u2'),
    [path.join(dir, 'u1'), path.join(dir, 'l0')],
  );
  assert.ok(got.equals(tar), 'the rebuilt tar holds the base layer data');
});
