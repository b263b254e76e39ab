import { promises as fs, type BigIntStats } from 'node:fs';
import type { Progress } from '../progress.js';
import { RechunkerError } from '../errors.js';
import type { ContentStore } from '../graph/content-store.js';
import type { DirNode, FileGraph, Inode } from '../graph/file-graph.js';
import { WHITEOUT_PREFIX } from '../oci/whiteout.js';
import { displayPath } from '../tar/entry.js';
import { byteOrder } from '../util/byte-order.js';
import { createFailFastLimit } from '../util/concurrency.js';
import { readContents, type ContentJob } from './read-contents.js';
import { readXattrs } from './read-xattrs.js';
import { inodeFromStat, statType } from './stat-inode.js';

export interface LoadRootfsOptions {
  /** Like `tar --one-file-system` (the default): a directory on another device is kept, empty. */
  oneFileSystem?: boolean;
  /** stat / readlink / xattr calls in flight (default 32). */
  jobs?: number;
  /** Names the source in messages (default: the directory). */
  where?: string;
  progress?: Progress;
}

export interface LoadRootfsResult {
  /** Paths below the root that went into the graph. */
  entries: number;
  files: number;
  /** Bytes of regular-file content read (each hardlinked inode once). */
  bytes: number;
  /** Mount points whose contents were left out (byte strings, relative). */
  mountPoints: string[];
  /** Sockets left out (byte strings, relative). */
  sockets: string[];
  warnings: string[];
}

const SLASH = Buffer.from('/');

/**
 * Fill `graph` with the tree under `dir`, as the kernel shows it: lstat (nothing is followed),
 * true mode, owner, nanosecond mtime, devices, symlink targets, hardlinks (one shared Inode per
 * dev+ino, marked `linked`), every xattr byte-exact, and the root directory's own metadata.
 * Names are raw bytes (latin1 strings). Contents are streamed into `store`, files in byte order of
 * their paths, so the result does not depend on the order the walk met them.
 */
export async function loadRootfs(
  dir: string,
  graph: FileGraph,
  store: ContentStore,
  opts: LoadRootfsOptions = {},
): Promise<LoadRootfsResult> {
  if (graph.contents !== store.contents) throw new Error('internal: a graph loaded into a store of other contents');
  const where = opts.where ?? `rootfs:${dir}`;
  const oneFs = opts.oneFileSystem ?? true;
  const limit = createFailFastLimit(
    opts.jobs ?? 32,
    () => new RechunkerError('IO', 'cancelled after an earlier failure'),
  );
  const progress = opts.progress;
  const result: LoadRootfsResult = { entries: 0, files: 0, bytes: 0, mountPoints: [], sockets: [], warnings: [] };
  const fail = (e: unknown, rel: string, what: string): RechunkerError => {
    if (e instanceof RechunkerError) return e;
    const err = e as NodeJS.ErrnoException;
    const code = err.code === 'ENOENT' ? 'NOT_FOUND' : 'IO';
    const at = rel === '' ? '' : ` "${displayPath(rel)}"`;
    return new RechunkerError(code, `${where}: ${what}${at}: ${err.code ?? err.message}`, { cause: e });
  };

  let rootAbs: string;
  let rootSt: BigIntStats;
  try {
    rootAbs = await fs.realpath(dir);
    rootSt = await fs.stat(rootAbs, { bigint: true });
  } catch (e) {
    throw fail(e, '', 'cannot read the directory');
  }
  if (!rootSt.isDirectory()) throw new RechunkerError('NOT_FOUND', `${where}: not a directory`);
  const rootBuf = Buffer.from(rootAbs);
  let rootXattrs: Map<string, Buffer> | null;
  try {
    rootXattrs = await readXattrs(rootBuf, false);
  } catch (e) {
    throw fail(e, '', 'cannot read the xattrs of the root');
  }
  graph.root.inode = inodeFromStat(rootSt, { xattrs: rootXattrs });
  graph.root.implied = false;
  graph.root.layer = 0;

  progress?.phase(`reading ${where}`);
  const inodes = new Map<string, Inode>();
  const jobs: ContentJob[] = [];

  async function visitDir(node: DirNode, abs: Buffer, rel: string): Promise<void> {
    let names: Buffer[];
    try {
      names = await limit(() => fs.readdir(abs, { encoding: 'buffer' }));
    } catch (e) {
      throw fail(e, rel, 'cannot list');
    }
    await Promise.all(names.map((name) => visitEntry(node, abs, rel, name)));
  }

  async function visitEntry(parent: DirNode, parentAbs: Buffer, parentRel: string, nameBuf: Buffer): Promise<void> {
    const name = nameBuf.toString('latin1');
    const rel = parentRel === '' ? name : `${parentRel}/${name}`;
    const abs = Buffer.concat([parentAbs, SLASH, nameBuf]);
    if (name.startsWith(WHITEOUT_PREFIX)) {
      throw new RechunkerError(
        'UNSUPPORTED',
        `${where}: "${displayPath(rel)}" cannot be stored in a layer: a name starting with ".wh." means a deletion there`,
      );
    }
    let st: BigIntStats;
    try {
      st = await limit(() => fs.lstat(abs, { bigint: true }));
    } catch (e) {
      throw fail(e, rel, 'cannot stat');
    }
    const type = statType(st);
    if (type === 'socket') {
      result.sockets.push(rel);
      return;
    }
    let linkname: string | undefined;
    let xattrs: Map<string, Buffer> | null;
    try {
      if (type === 'symlink')
        linkname = (await limit(() => fs.readlink(abs, { encoding: 'buffer' }))).toString('latin1');
      xattrs = await limit(() => readXattrs(abs, type === 'symlink'));
    } catch (e) {
      throw fail(e, rel, 'cannot read');
    }
    result.entries++;
    if (type === 'dir') {
      const node: DirNode = {
        name,
        parent,
        children: new Map(),
        inode: inodeFromStat(st, { xattrs }),
        layer: 0,
        implied: false,
      };
      parent.children.set(name, node);
      if (oneFs && st.dev !== rootSt.dev) {
        result.mountPoints.push(rel);
        return;
      }
      await visitDir(node, abs, rel);
      return;
    }
    let inode: Inode | undefined;
    const key = st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined;
    if (key !== undefined) {
      inode = inodes.get(key);
      if (inode) inode.linked = true;
    }
    if (!inode) {
      inode = inodeFromStat(st, { ...(linkname !== undefined ? { linkname } : {}), xattrs });
      if (key !== undefined) inodes.set(key, inode);
      if (type === 'file') jobs.push({ inode, abs, rel, dev: st.dev, ino: st.ino });
    }
    parent.children.set(name, { name, parent, children: null, inode, layer: 0 });
    if (result.entries % 1000 === 0) progress?.advance(result.entries);
  }

  try {
    await visitDir(graph.root, rootBuf, '');
  } catch (e) {
    limit.cancel();
    throw e;
  }

  // Byte order of paths: the pack file and the first path of a hardlink set do not depend on
  // which stat answered first.
  jobs.sort((a, b) => byteOrder(a.rel, b.rel));
  progress?.phase(`reading ${jobs.length} files of ${where}`);
  result.files = jobs.length;
  result.bytes = await readContents(jobs, store, where, 32, (n) => {
    if (n % 500 === 0 || n === jobs.length) progress?.advance(n, jobs.length);
  });

  result.mountPoints.sort();
  result.sockets.sort();
  for (const m of result.mountPoints) {
    result.warnings.push(
      `${where}: "${displayPath(m)}" is a mount point of another filesystem: kept as an empty directory, its contents left out`,
    );
  }
  for (const s of result.sockets)
    result.warnings.push(`${where}: "${displayPath(s)}" is a socket: left out (a layer cannot hold one)`);
  for (const w of result.warnings) progress?.warn(w);
  return result;
}
