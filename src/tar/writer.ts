import { RechunkerError } from '../errors.js';
import { displayPath, type TarEntry } from './entry.js';
import { encodeEntryHeader } from './header-encode.js';
import { BLOCK_SIZE } from './header.js';
import { normalizeTarPath } from './path.js';

export interface TarWriteItem {
  entry: TarEntry;
  /** Exactly entry.size bytes for a 'file'; nothing for other types. */
  body?: Buffer | AsyncIterable<Buffer>;
}

/** Output pieces are gathered up to this size: fewer, larger writes for archives of small files. */
const BATCH = 64 * 1024;
/** Pieces at least this big go out as they are, without a copy. */
const PASS_THROUGH = 16 * 1024;
const ZEROS = Buffer.alloc(2 * BLOCK_SIZE);

/**
 * Serialise entries as a tar archive (ustar + PAX, see encodeEntryHeader). The archive ends with
 * exactly two zero blocks and no blocking-factor padding, so it is as small as it can be and the
 * same entries always give the same bytes. Each body's length is checked against entry.size.
 */
export async function* writeTar(
  items: AsyncIterable<TarWriteItem> | Iterable<TarWriteItem>,
): AsyncGenerator<Buffer, void, undefined> {
  const out = new Batcher();
  for await (const { entry, body } of items) {
    checkEntry(entry);
    for (const b of out.add(encodeEntryHeader(entry))) yield b;
    let written = 0;
    if (Buffer.isBuffer(body)) {
      written = body.length;
      if (written !== entry.size) throw sizeMismatch(entry, written);
      for (const b of out.add(body)) yield b;
    } else if (body !== undefined) {
      for await (const chunk of body) {
        written += chunk.length;
        if (written > entry.size) throw sizeMismatch(entry, written, true);
        for (const b of out.add(chunk)) yield b;
      }
      if (written !== entry.size) throw sizeMismatch(entry, written);
    } else if (entry.size !== 0) {
      throw sizeMismatch(entry, 0);
    }
    const padding = (BLOCK_SIZE - (written % BLOCK_SIZE)) % BLOCK_SIZE;
    if (padding > 0) for (const b of out.add(ZEROS.subarray(0, padding))) yield b;
  }
  for (const b of out.add(ZEROS)) yield b;
  for (const b of out.flush()) yield b;
}

/**
 * Small pieces are copied into a batch buffer (a copy also protects us from a body source that
 * reuses its buffers once we ask for more); big ones are passed through untouched. A batch is
 * never reused after it has been yielded.
 */
class Batcher {
  private buf = Buffer.allocUnsafe(BATCH);
  private len = 0;

  /** The buffers ready to go out (usually none). */
  add(piece: Buffer): readonly Buffer[] {
    if (piece.length >= PASS_THROUGH) return this.len === 0 ? [piece] : [this.take(), piece];
    const ready = this.len + piece.length > BATCH ? [this.take()] : NONE;
    this.buf.set(piece, this.len); // cheaper than Buffer#copy for small pieces
    this.len += piece.length;
    return ready;
  }

  flush(): readonly Buffer[] {
    return this.len === 0 ? NONE : [this.take()];
  }

  private take(): Buffer {
    const full = this.buf.subarray(0, this.len);
    this.buf = Buffer.allocUnsafe(BATCH);
    this.len = 0;
    return full;
  }
}

const NONE: readonly Buffer[] = [];

// biome-ignore lint/suspicious/noControlCharactersInRegex: the byte range 0-255 is the point
const NOT_BYTES = /[^\x00-\xff]/;

/** Entries come from our own code; a bad one is a bug, caught here before it is written. */
function checkEntry(e: TarEntry): void {
  const bug = (what: string) => new Error(`tar writer: entry "${displayPath(e.path)}" ${what}`);
  if (normalizeTarPath(e.path, 'tar writer input') !== e.path) throw bug('has a path that is not normalised');
  if (e.type === 'hardlink') {
    if (
      normalizeTarPath(e.linkname, `tar writer input (hardlink target of "${displayPath(e.path)}")`) !== e.linkname ||
      e.linkname === '.'
    ) {
      throw bug('has a hardlink target that is not a normalised path');
    }
  } else if (e.type !== 'symlink' && e.linkname !== '') throw bug(`of type ${e.type} has a linkname`);
  if (e.type !== 'file' && e.size !== 0) throw bug(`of type ${e.type} has size ${e.size}`);
  for (const [field, v] of [
    ['size', e.size],
    ['uid', e.uid],
    ['gid', e.gid],
    ['devmajor', e.devmajor],
    ['devminor', e.devminor],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw bug(`has ${field} ${v}`);
  }
  if (!Number.isSafeInteger(e.mtimeSec) || !Number.isInteger(e.mtimeNsec) || e.mtimeNsec < 0 || e.mtimeNsec >= 1e9) {
    throw bug(`has mtime ${e.mtimeSec}.${e.mtimeNsec}`);
  }
  if (!Number.isInteger(e.mode) || e.mode < 0 || e.mode > 0o7777) throw bug(`has mode 0o${e.mode.toString(8)}`);
  if (NOT_BYTES.test(e.path) || NOT_BYTES.test(e.linkname) || NOT_BYTES.test(e.uname) || NOT_BYTES.test(e.gname)) {
    throw bug('has a name that is not a byte string (a char above 0xff)');
  }
  for (const name of e.xattrs.keys()) {
    // A PAX key ends at the first '=', so such a name cannot be stored in SCHILY.xattr.
    if (name === '' || name.includes('=') || name.includes('\0') || NOT_BYTES.test(name)) {
      throw new RechunkerError(
        'UNSUPPORTED',
        `xattr name "${displayPath(name)}" of "${displayPath(e.path)}" cannot be stored in a tar archive`,
      );
    }
  }
}

function sizeMismatch(e: TarEntry, got: number, atLeast = false): RechunkerError {
  return new RechunkerError(
    'BAD_TAR',
    `body of "${displayPath(e.path)}" is ${atLeast ? 'more than ' : ''}${atLeast ? e.size : got} bytes, but its entry says ${e.size}`,
  );
}
