import { RechunkerError } from '../errors.js';
import { ByteQueue } from './byte-queue.js';
import { displayPath, type EntryType, type TarEntry } from './entry.js';
import { BLOCK_SIZE, decodeHeader, isZeroBlock, type RawHeader } from './header.js';
import { normalizeTarPath } from './path.js';
import { checkEntry, checkLimits, checkRawLinkTarget, checkRawName, MAX_META_SIZE } from './entry-rules.js';
import { interpretPax, parsePax, type PaxOverrides, type PaxRecords } from './pax.js';

export interface TarReadItem {
  entry: TarEntry;
  /**
   * Exactly entry.size bytes ('file' only; empty otherwise), zero-copy slices of the source's
   * chunks. Read it at most once, before asking for the next item: the reader skips whatever is
   * left unread when it moves on, and a body read after that throws.
   */
  body: AsyncIterable<Buffer>;
}

export interface ReadTarOptions {
  /** Names the archive in error messages, e.g. "layer sha256:abcd... of oci:/x:tag". */
  where?: string;
  /** Largest PAX or GNU long-name body accepted (default 1 MiB, Go's limit): they are held in memory. */
  maxMetaSize?: number;
}

interface BodyState {
  remaining: number;
  padding: number;
  started: boolean;
  /** Set when the reader moved past this entry while part of its body was unread. */
  abandoned: boolean;
  path: string;
}

const NO_BODY: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: async function* () {} };

/**
 * Stream the entries of a tar archive. PAX ('x', 'g') and GNU long-name ('L', 'K') headers are
 * folded into the entry they describe; paths are normalised and checked (see normalizeTarPath).
 *
 * The archive ends at a zero block (normally two) or, for writers that omit them, at the end of
 * the source right after a complete entry. After the end blocks the source is read to its end
 * and ignored, so a caller hashing the stream sees every byte. Memory stays bounded: bodies are
 * passed through chunk by chunk, and only header blocks and PAX bodies are ever copied.
 */
export async function* readTar(
  source: AsyncIterable<Buffer> | Iterable<Buffer>,
  opts: ReadTarOptions = {},
): AsyncGenerator<TarReadItem, void, undefined> {
  const where = opts.where ?? 'tar archive';
  const maxMeta = opts.maxMetaSize ?? MAX_META_SIZE;
  const q = new ByteQueue(iteratorOf(source));
  let body: BodyState | undefined;
  let finished = false;
  try {
    for (;;) {
      if (body) await finishBody(q, body, where);
      body = undefined;
      // Everything that describes the next entry: 'x', 'L', 'K' before its header.
      let localPax: PaxRecords | undefined;
      let longName: string | undefined;
      let longLink: string | undefined;
      let header: RawHeader;
      let headerOffset: number;
      const entryOffset = q.pos; // where the first header of this entry starts, for messages
      for (;;) {
        headerOffset = q.pos;
        const pending = localPax !== undefined || longName !== undefined || longLink !== undefined;
        if (q.avail < BLOCK_SIZE && !(await q.ensure(BLOCK_SIZE))) {
          if (q.avail === 0 && !pending) {
            finished = true;
            return;
          }
          throw truncated(`in the header at offset ${headerOffset}`, where);
        }
        const [buf, off] = q.peek(BLOCK_SIZE);
        if (isZeroBlock(buf, off)) {
          if (pending)
            throw bad(`extended header at offset ${headerOffset} is followed by the end of the archive`, where);
          await q.drain();
          finished = true;
          return;
        }
        header = decodeHeader(buf, off, headerOffset, where);
        q.consume(BLOCK_SIZE);
        if (header.kind === 'pax-global') {
          // GNU tar applies a global header to every later entry (xattrs aside); Go ignores it
          // and umoci refuses the layer. No reading of it is the runtimes' reading.
          throw bad(
            `PAX global header at offset ${headerOffset}: GNU tar applies it, Go-based unpackers ignore or refuse it`,
            where,
          );
        }
        if (header.kind === 'pax') {
          // Several in a row: GNU tar and Go apply only the last one, so we do too.
          localPax = parsePax(
            await readMeta(q, header, headerOffset, maxMeta, where),
            `${where} (header at offset ${headerOffset})`,
          );
        } else if (header.kind === 'gnu-long-name') {
          longName = cString(await readMeta(q, header, headerOffset, maxMeta, where));
        } else if (header.kind === 'gnu-long-link') {
          longLink = cString(await readMeta(q, header, headerOffset, maxMeta, where));
        } else break;
      }
      const pax =
        localPax && localPax.size > 0 ? interpretPax(localPax, `${where} (entry at offset ${entryOffset})`) : undefined;
      const entry = buildEntry(header, pax, longName, longLink, entryOffset, where);
      if (entry.type === 'file' && entry.size > 0) {
        body = { remaining: entry.size, padding: pad(entry.size), started: false, abandoned: false, path: entry.path };
        yield { entry, body: new Body(q, body, where) };
      } else {
        yield { entry, body: NO_BODY };
      }
    }
  } finally {
    if (body && body.remaining > 0) body.abandoned = true;
    if (!finished) await q.close();
  }
}

function iteratorOf(source: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncIterator<Buffer> {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  const it = source[Symbol.iterator]();
  return { next: async () => it.next(), return: async () => it.return?.() ?? { done: true, value: undefined } };
}

function buildEntry(
  h: RawHeader,
  pax: PaxOverrides | undefined,
  longName: string | undefined,
  longLink: string | undefined,
  offset: number,
  where: string,
): TarEntry {
  if (pax?.path !== undefined && longName !== undefined && pax.path !== longName) {
    // GNU tar takes the PAX path, Go the GNU long name.
    throw bad(
      `entry at offset ${offset} has both a PAX path and a GNU long name, which GNU tar and Go choose between differently`,
      where,
    );
  }
  if (pax?.linkpath !== undefined && longLink !== undefined && pax.linkpath !== longLink) {
    throw bad(
      `entry at offset ${offset} has both a PAX linkpath and a GNU long link name, which GNU tar and Go choose between differently`,
      where,
    );
  }
  const rawPath = pax?.path ?? longName ?? h.name;
  const shown = `"${displayPath(rawPath)}"`;
  if (h.kind === 'gnu-sparse' || pax?.sparse) {
    const name = pax?.sparseName !== undefined ? `"${displayPath(pax.sparseName)}"` : shown;
    throw new RechunkerError('UNSUPPORTED', `sparse file ${name} in ${where} is not supported (GNU sparse format)`);
  }
  let type: EntryType;
  if (h.kind === 'file' && h.typeflag === 0 && rawPath.endsWith('/')) {
    // A pre-POSIX directory. Go gives it no body; GNU tar would read one as more headers.
    if ((pax?.size ?? h.size) > 0) throw bad(`old-style directory ${shown} at offset ${offset} has a size`, where);
    type = 'dir';
  } else if (h.typeflag === 0x37) {
    // Contiguous file: GNU tar extracts it as a regular file, Go-based unpackers refuse it.
    throw bad(
      `entry ${shown} at offset ${offset} is a contiguous file (type '7'), which Go-based unpackers refuse`,
      where,
    );
  } else if (isEntryType(h.kind)) type = h.kind;
  else {
    const flag = String.fromCharCode(h.typeflag);
    throw new RechunkerError(
      'UNSUPPORTED',
      `entry ${shown} at offset ${offset} in ${where} has unsupported type '${flag}'`,
    );
  }
  checkRawName(rawPath, type, where);
  const path = normalizeTarPath(rawPath, where);
  checkLimits(path, where);
  const rawLink = pax?.linkpath ?? longLink ?? h.linkname;
  let linkname = '';
  if (type === 'hardlink') {
    checkRawLinkTarget(path, rawLink, where);
    linkname = normalizeTarPath(rawLink, `${where} (hardlink target of "${displayPath(path)}")`);
    if (linkname === '.') throw bad(`hardlink "${displayPath(path)}" has no target`, where);
  } else if (type === 'symlink') {
    // A symlink target is data: absolute and '..' targets are normal in OS images.
    if (rawLink.includes('\0')) {
      throw new RechunkerError(
        'UNSAFE_PATH',
        `symlink "${displayPath(path)}" in ${where} has a NUL byte in its target`,
      );
    }
    linkname = rawLink;
  }
  const isDevice = type === 'chardev' || type === 'blockdev';
  const mtime = pax?.mtime;
  const entry: TarEntry = {
    path,
    type,
    mode: h.mode & 0o7777,
    uid: pax?.uid ?? h.uid,
    gid: pax?.gid ?? h.gid,
    uname: pax?.uname ?? h.uname,
    gname: pax?.gname ?? h.gname,
    mtimeSec: mtime ? mtime.sec : h.mtime,
    mtimeNsec: mtime ? mtime.nsec : 0,
    // Like Go's archive/tar (which wrote and unpacks most OCI layers), only regular files have
    // a body; a size on any other type is ignored.
    size: type === 'file' ? (pax?.size ?? h.size) : 0,
    linkname,
    devmajor: isDevice ? h.devmajor : 0,
    devminor: isDevice ? h.devminor : 0,
    xattrs: pax?.xattrs ?? new Map(),
  };
  checkEntry(entry, where);
  return entry;
}

function isEntryType(kind: RawHeader['kind']): kind is EntryType {
  return (
    kind !== 'pax' &&
    kind !== 'pax-global' &&
    kind !== 'gnu-long-name' &&
    kind !== 'gnu-long-link' &&
    kind !== 'gnu-sparse' &&
    kind !== 'unknown'
  );
}

/** The body of a PAX or GNU long-name header, copied (it is small and outlives the chunk). */
async function readMeta(q: ByteQueue, h: RawHeader, offset: number, max: number, where: string): Promise<Buffer> {
  if (h.size > max)
    throw bad(`extended header at offset ${offset} is ${h.size} bytes, more than the ${max} accepted`, where);
  const total = h.size + pad(h.size);
  if (!(await q.ensure(total))) throw truncated(`in the extended header at offset ${offset}`, where);
  const [buf, off] = q.peek(h.size);
  const out = Buffer.from(buf.subarray(off, off + h.size));
  q.consume(total);
  return out;
}

/**
 * A hand-written iterator rather than an async generator: it is created for every file, and the
 * generator machinery costs more than the rest of the per-entry work on archives of small files.
 */
class Body implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  constructor(
    private readonly q: ByteQueue,
    private readonly st: BodyState,
    private readonly where: string,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.st.started) throw new Error(`tar reader: the body of "${displayPath(this.st.path)}" was already read`);
    this.st.started = true;
    return this;
  }

  async next(): Promise<IteratorResult<Buffer, undefined>> {
    const { q, st } = this;
    // The consumer may ask for the next entry while it holds a chunk of this body, and come
    // back to the body afterwards: what it would read now is gone.
    if (st.abandoned)
      throw new Error(`tar reader: the body of "${displayPath(st.path)}" was read after the reader moved on`);
    if (st.remaining === 0) return { done: true, value: undefined };
    if (q.avail === 0 && !(await q.pull())) throw truncatedBody(st, this.where);
    const chunk = q.takeSome(st.remaining);
    st.remaining -= chunk.length;
    return { done: false, value: chunk };
  }

  async return(): Promise<IteratorResult<Buffer, undefined>> {
    return { done: true, value: undefined };
  }
}

async function finishBody(q: ByteQueue, st: BodyState, where: string): Promise<void> {
  if (st.remaining > 0) {
    st.abandoned = true;
    if (!(await q.skip(st.remaining))) throw truncatedBody(st, where);
    st.remaining = 0;
  }
  if (!(await q.skip(st.padding))) throw truncatedBody(st, where);
}

function pad(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

/** A GNU long name is NUL-terminated inside its body. */
function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('latin1', 0, nul < 0 ? b.length : nul);
}

function bad(msg: string, where: string): RechunkerError {
  return new RechunkerError('BAD_TAR', `${msg} in ${where}`);
}

function truncated(what: string, where: string): RechunkerError {
  return new RechunkerError('BAD_TAR', `truncated archive: it ends ${what} in ${where}`);
}

function truncatedBody(st: BodyState, where: string): RechunkerError {
  return new RechunkerError(
    'BAD_TAR',
    `truncated archive: it ends in the body of "${displayPath(st.path)}" in ${where}`,
  );
}
