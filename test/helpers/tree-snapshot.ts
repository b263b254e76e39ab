// Snapshot of a directory tree as the kernel shows it, so that an unpacked or mounted image can be
// compared entry by entry with its true tree. Paths are latin1 strings of the raw bytes: every byte
// maps to one char and back, so names that are not UTF-8 survive.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { run } from './tools.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'chardev' | 'blockdev' | 'fifo' | 'socket';

export interface TreeEntry {
  type: EntryType;
  /** permission bits with setuid/setgid/sticky (mode & 0o7777) */
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  /** st_size; compareTrees ignores it for directories, whose size depends on the filesystem */
  size: bigint;
  /** hex sha256 of the content, regular files only */
  sha256?: string;
  /** link target (latin1 of the raw bytes), symlinks only */
  symlink?: string;
  /** chardev and blockdev only */
  device?: { major: number; minor: number };
  /** xattr name (latin1) -> hex of the raw value; empty when there are none */
  xattrs: Map<string, string>;
  /** sorted relative paths of every path in this tree sharing the inode, when there are two or more */
  hardlinks?: readonly string[];
}

const HASH_PARALLEL = 8;
const SMALL_FILE = 1 << 20;

export async function snapshotTree(root: string): Promise<Map<string, TreeEntry>> {
  const absRoot = path.resolve(root);
  // getfattr walks the tree on its own while we walk it here: the two overlap.
  const xattrsPromise = readAllXattrs(absRoot);
  const entries = new Map<string, TreeEntry>();
  const inodes = new Map<string, string[]>();
  const files: string[] = [];

  const rootBuf = Buffer.from(absRoot, 'latin1');
  async function walk(dirRel: string, dirAbs: Buffer): Promise<void> {
    const names = await fs.readdir(dirAbs, { encoding: 'buffer' });
    const subdirs: Array<[string, Buffer]> = [];
    await Promise.all(
      names.map(async (name) => {
        const rel = dirRel === '' ? name.toString('latin1') : `${dirRel}/${name.toString('latin1')}`;
        const abs = Buffer.concat([dirAbs, SLASH, name]);
        const st = await fs.lstat(abs, { bigint: true });
        const entry: TreeEntry = {
          type: typeOf(st),
          mode: Number(st.mode & 0o7777n),
          uid: Number(st.uid),
          gid: Number(st.gid),
          mtimeNs: st.mtimeNs,
          size: st.size,
          xattrs: new Map(),
        };
        if (entry.type === 'symlink') {
          entry.symlink = (await fs.readlink(abs, { encoding: 'buffer' })).toString('latin1');
        } else if (entry.type === 'chardev' || entry.type === 'blockdev') {
          entry.device = splitRdev(st.rdev);
        } else if (entry.type === 'file') {
          files.push(rel);
        }
        if (entry.type !== 'dir' && st.nlink > 1n) {
          const key = `${st.dev}:${st.ino}`;
          const set = inodes.get(key);
          if (set) set.push(rel);
          else inodes.set(key, [rel]);
        }
        entries.set(rel, entry);
        if (entry.type === 'dir') subdirs.push([rel, abs]);
      }),
    );
    await Promise.all(subdirs.map(([rel, abs]) => walk(rel, abs)));
  }
  await walk('', rootBuf);

  // Singletons are dropped: nlink > 1 with the other links outside this tree says nothing about it.
  for (const set of inodes.values()) {
    if (set.length < 2) continue;
    const sorted = Object.freeze(set.sort());
    for (const p of sorted) entries.get(p)!.hardlinks = sorted;
  }

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const rel = files[next++]!;
      const entry = entries.get(rel)!;
      entry.sha256 = await hashFile(Buffer.concat([rootBuf, SLASH, Buffer.from(rel, 'latin1')]), entry.size);
    }
  };
  await Promise.all(Array.from({ length: HASH_PARALLEL }, worker));

  for (const [rel, attrs] of await xattrsPromise) {
    const entry = entries.get(rel);
    if (!entry) throw new Error(`getfattr reported ${JSON.stringify(rel)}, which the walk of ${absRoot} did not find`);
    entry.xattrs = attrs;
  }
  return entries;
}

const SLASH = Buffer.from('/');

function typeOf(st: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
}): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  throw new Error('unknown file type');
}

/** glibc's gnu_dev_major/gnu_dev_minor on the 64-bit dev_t */
export function splitRdev(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

async function hashFile(abs: Buffer, size: bigint): Promise<string> {
  // One read beats stream overhead for the thousands of small files an OS tree holds.
  if (size < BigInt(SMALL_FILE))
    return createHash('sha256')
      .update(await fs.readFile(abs))
      .digest('hex');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(abs, { highWaterMark: SMALL_FILE })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Every xattr under root, from one getfattr process. `-h` is essential: without it getfattr
 * follows symlinks, so `usr/bin/ping4 -> ping` would report ping's capability and absolute links
 * would read the host's files. Paths are relative to root.
 */
export async function readAllXattrs(absRoot: string): Promise<Map<string, Map<string, string>>> {
  const res = await run('getfattr', ['--absolute-names', '-h', '-R', '-P', '-d', '-m', '-', '-e', 'hex', absRoot], {
    encoding: 'latin1',
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (res.code !== 0) throw new Error(`getfattr on ${absRoot} failed (exit ${res.code}): ${res.stderr.trim()}`);
  return parseGetfattr(res.stdout, absRoot);
}

/** Parses `getfattr -d -e hex` output (read as latin1) into relative path -> name -> hex. */
export function parseGetfattr(out: string, absRoot: string): Map<string, Map<string, string>> {
  const result = new Map<string, Map<string, string>>();
  const prefix = absRoot.endsWith('/') ? absRoot : `${absRoot}/`;
  let current: Map<string, string> | undefined;
  for (const line of out.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# file: ')) {
      const p = unescapeOctal(line.slice('# file: '.length));
      if (p === absRoot) {
        current = undefined; // the root itself is not part of the snapshot
        continue;
      }
      if (!p.startsWith(prefix)) throw new Error(`getfattr printed a path outside ${absRoot}: ${JSON.stringify(p)}`);
      current = new Map();
      result.set(p.slice(prefix.length), current);
      continue;
    }
    // '=' inside a name is escaped by getfattr, so the first one separates name and value.
    const eq = line.indexOf('=');
    const name = unescapeOctal(eq < 0 ? line : line.slice(0, eq));
    const value = eq < 0 ? '' : line.slice(eq + 1);
    if (!value.startsWith('0x') && value !== '') throw new Error(`getfattr value not hex: ${JSON.stringify(line)}`);
    current?.set(name, value.slice(2).toLowerCase());
  }
  return result;
}

/** getfattr writes '\\', newline, '=' and other control bytes as \NNN octal; other bytes go out raw. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
