import { constants, promises as fs } from 'node:fs';
import { RechunkerError } from '../errors.js';
import type { ContentStore } from '../graph/content-store.js';
import type { Inode } from '../graph/file-graph.js';
import { displayPath } from '../tar/entry.js';

/** One regular file whose bytes go into the store. */
export interface ContentJob {
  inode: Inode;
  /** Raw path bytes. */
  abs: Buffer;
  /** Path relative to the root (byte string), for messages and ordering. */
  rel: string;
  /** What lstat saw: the file opened must be the same one. */
  dev: bigint;
  ino: bigint;
}

const CHUNK = 1024 * 1024;
/** The first read of each upcoming file is done ahead, at most this much per file. */
const HEAD = 256 * 1024;

interface Opened {
  handle: fs.FileHandle;
  head: Buffer;
}

/**
 * Read each file into the store, in the order given. ContentStore.put appends to one pack file
 * and takes one body at a time, so the puts are sequential; what runs ahead is opening the next
 * `ahead` files and reading their first HEAD bytes (all of a small file), which hides the
 * per-file syscall latency. Memory is bounded by ahead * HEAD plus one CHUNK; no file is ever
 * held whole unless it is smaller than HEAD.
 */
export async function readContents(
  jobs: readonly ContentJob[],
  store: ContentStore,
  where: string,
  ahead = 32,
  onFile?: (done: number) => void,
): Promise<number> {
  const opened = new Array<Promise<Opened> | undefined>(jobs.length);
  const start = (i: number) => {
    if (i < jobs.length && !opened[i]) {
      const p = openFile(jobs[i]!, where);
      p.catch(() => {}); // reported when its turn comes
      opened[i] = p;
    }
  };
  for (let i = 0; i < Math.min(ahead, jobs.length); i++) start(i);
  let bytes = 0;
  try {
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i]!;
      const { handle, head } = await opened[i]!;
      opened[i] = undefined;
      start(i + ahead);
      try {
        job.inode.content = await store.put(
          body(handle, head, job, where),
          job.inode.size,
          `${where}: ${displayPath(job.rel)}`,
        );
      } finally {
        await handle.close();
      }
      bytes += job.inode.size;
      onFile?.(i + 1);
    }
  } finally {
    // On failure, close what was opened ahead.
    for (const p of opened) if (p !== undefined) void p.then((o) => o.handle.close()).catch(() => {});
  }
  return bytes;
}

async function openFile(job: ContentJob, where: string): Promise<Opened> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(job.abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    throw ioError(e, job, where, 'cannot open');
  }
  try {
    const st = await handle.stat({ bigint: true });
    if (st.ino !== job.ino || st.dev !== job.dev) {
      throw new RechunkerError('IO', `${where}: "${displayPath(job.rel)}" was replaced while the tree was being read`);
    }
    const want = Math.min(HEAD, job.inode.size);
    const head = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await handle.read(head, got, want - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < want) throw shrank(job, where);
    return { handle, head };
  } catch (e) {
    await handle.close().catch(() => {});
    if (e instanceof RechunkerError) throw e;
    throw ioError(e, job, where, 'cannot read');
  }
}

/** Exactly inode.size bytes: the head read ahead, then the rest in CHUNK pieces. */
async function* body(handle: fs.FileHandle, head: Buffer, job: ContentJob, where: string): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  let pos = head.length;
  const size = job.inode.size;
  while (pos < size) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
    let n: number;
    try {
      ({ bytesRead: n } = await handle.read(buf, 0, buf.length, pos));
    } catch (e) {
      throw ioError(e, job, where, 'cannot read');
    }
    if (n === 0) throw shrank(job, where);
    pos += n;
    yield n === buf.length ? buf : buf.subarray(0, n);
  }
}

function shrank(job: ContentJob, where: string): RechunkerError {
  return new RechunkerError(
    'IO',
    `${where}: "${displayPath(job.rel)}" became shorter than ${job.inode.size} bytes while it was being read`,
  );
}

function ioError(e: unknown, job: ContentJob, where: string, what: string): RechunkerError {
  const err = e as NodeJS.ErrnoException;
  return new RechunkerError('IO', `${where}: ${what} "${displayPath(job.rel)}": ${err.code ?? err.message}`, {
    cause: e,
  });
}
