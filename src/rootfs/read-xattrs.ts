import { constants, promises as fs } from 'node:fs';
import { getAttribute, listAttributes } from 'fs-xattr';
import { RechunkerError } from '../errors.js';
import { displayPath } from '../tar/entry.js';

/**
 * Every xattr of one filesystem object, byte-exact, without following a symlink.
 *
 * fs-xattr calls getxattr(2)/listxattr(2), which follow symlinks, and passes paths as UTF-8
 * strings, which cannot spell a name that is not UTF-8. Both are avoided the same way: the object
 * is opened with O_PATH|O_NOFOLLOW (a Buffer path, so any bytes) and read through
 * /proc/self/fd/N, a magic link the kernel resolves to the object itself, so a symlink reports
 * its own xattrs (e.g. security.selinux), never its target's. Without /proc the path is used
 * directly for what it can express (UTF-8 names, not symlinks), and symlinks get no xattrs.
 */

/** O_PATH is 010000000 on every Linux architecture Node runs on; node's constants omit it. */
const O_PATH = 0o10000000;

let procFd: boolean | undefined;

async function haveProcFd(): Promise<boolean> {
  if (procFd === undefined) {
    try {
      await fs.access('/proc/self/fd');
      procFd = process.platform === 'linux';
    } catch {
      procFd = false;
    }
  }
  return procFd;
}

/** Errors that mean "this filesystem or object has no xattrs". */
const NO_XATTRS = new Set(['ENOTSUP', 'EOPNOTSUPP', 'ENODATA', 'ENOATTR']);

/** xattr names come back as UTF-8 strings; the graph keeps names as byte strings (latin1). */
function byteName(name: string, shown: string): string {
  if (name.includes('\uFFFD')) {
    throw new RechunkerError('UNSUPPORTED', `"${shown}": an xattr name is not valid UTF-8 and cannot be read exactly`);
  }
  return Buffer.from(name, 'utf8').toString('latin1');
}

async function readVia(target: string, shown: string): Promise<Map<string, Buffer> | null> {
  let names: string[];
  try {
    names = await listAttributes(target);
  } catch (e) {
    if (NO_XATTRS.has((e as NodeJS.ErrnoException).code ?? '')) return null;
    throw e;
  }
  if (names.length === 0) return null;
  const out = new Map<string, Buffer>();
  for (const name of names.sort()) {
    try {
      out.set(byteName(name, shown), await getAttribute(target, name));
    } catch (e) {
      // Removed between list and get: it is not there any more.
      if ((e as NodeJS.ErrnoException).code === 'ENODATA') continue;
      throw e;
    }
  }
  return out.size > 0 ? out : null;
}

/**
 * The xattrs of `abs` (raw path bytes), or null when it has none. `isSymlink` says what lstat
 * saw: without /proc a symlink's own xattrs cannot be read, and it gets none.
 */
export async function readXattrs(abs: Buffer, isSymlink: boolean): Promise<Map<string, Buffer> | null> {
  const shown = displayPath(abs.toString('latin1'));
  try {
    if (await haveProcFd()) {
      const handle = await fs.open(abs, O_PATH | constants.O_NOFOLLOW);
      try {
        return await readVia(`/proc/self/fd/${handle.fd}`, shown);
      } finally {
        await handle.close();
      }
    }
    if (isSymlink) return null;
    const asText = abs.toString('utf8');
    if (!Buffer.from(asText, 'utf8').equals(abs)) {
      throw new RechunkerError(
        'UNSUPPORTED',
        `"${shown}": a name that is not UTF-8 needs /proc/self/fd to read its xattrs`,
      );
    }
    return await readVia(asText, shown);
  } catch (e) {
    if (e instanceof RechunkerError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new RechunkerError('IO', `cannot read the xattrs of "${shown}": ${err.code ?? ''} ${err.message}`.trim(), {
      cause: e,
    });
  }
}
