import { RechunkerError } from '../errors.js';
import { displayPath, type EntryType, type TarEntry } from './entry.js';

/**
 * Entries that GNU tar and Go's archive/tar (with the unpackers built on it) turn into different
 * files, or that no Linux filesystem can hold. Each is refused with one BAD_TAR line naming the
 * entry, rather than read one way: a scanner that sees one file and a runtime another is how
 * files get hidden. The differential test (test/tar/differential.test.ts) is where these come from.
 */
export const NAME_MAX = 255;
/** PATH_MAX (4096) counts the terminating NUL. */
export const PATH_MAX = 4095;
/** Go reads PAX and GNU long-name bodies of at most 1 MiB ("archive/tar: header field too long"). */
export const MAX_META_SIZE = 1024 * 1024;
/** chown(2) takes (uid_t)-1 as "leave unchanged", so the largest owner a file can have is 2^32 - 2. */
const MAX_ID = 2 ** 32 - 2;

function refuse(path: string, why: string, where: string): RechunkerError {
  return new RechunkerError('BAD_TAR', `entry "${displayPath(path).slice(0, 200)}" in ${where} ${why}`);
}

/**
 * The name as stored, before normalisation. A non-directory named 'a/' is a directory to GNU tar
 * (which then reads the body as more headers: a hidden entry) and a file to Go; 'fd/.' is refused
 * by both. Directories may end in '/' or '/.' freely.
 */
export function checkRawName(raw: string, type: EntryType, where: string): void {
  if (type === 'dir') return;
  if (raw.endsWith('/') || raw.endsWith('/.') || raw === '.') {
    throw refuse(
      raw,
      `is a ${type} whose name ends in "${raw.endsWith('/') ? '/' : '/.'}": GNU tar and Go read it differently`,
      where,
    );
  }
}

/** A hardlink target 'a/' or 'a/.' names a directory to GNU tar (which refuses it), a file to Go. */
export function checkRawLinkTarget(path: string, raw: string, where: string): void {
  if (raw.endsWith('/') || raw.endsWith('/.'))
    throw refuse(path, `is a hardlink to "${displayPath(raw)}", which ends in a slash`, where);
}

/** Linear in the path's length, so a hostile megabyte-long name costs a millisecond, not minutes. */
export function checkLimits(path: string, where: string): void {
  if (path.length > PATH_MAX)
    throw refuse(path, `has a path of ${path.length} bytes, more than Linux's ${PATH_MAX}`, where);
  let start = 0;
  for (;;) {
    const slash = path.indexOf('/', start);
    const end = slash < 0 ? path.length : slash;
    if (end - start > NAME_MAX)
      throw refuse(path, `has a name component of ${end - start} bytes, more than Linux's ${NAME_MAX}`, where);
    if (slash < 0) return;
    start = slash + 1;
  }
}

export function checkEntry(e: TarEntry, where: string): void {
  for (const id of ['uid', 'gid'] as const) {
    if (e[id] > MAX_ID)
      throw refuse(
        e.path,
        `has ${id} ${e[id]}, more than a Linux owner can be (GNU tar refuses it, Go wraps it)`,
        where,
      );
  }
  if (e.type === 'symlink') {
    if (e.linkname === '') throw refuse(e.path, 'is a symlink with an empty target, which Linux cannot create', where);
    if (e.linkname.length > PATH_MAX)
      throw refuse(e.path, `is a symlink whose target of ${e.linkname.length} bytes Linux cannot hold`, where);
  }
  if (e.type !== 'file' && e.type !== 'dir' && e.type !== 'hardlink') {
    for (const name of e.xattrs.keys()) {
      if (name.startsWith('user.'))
        throw refuse(
          e.path,
          `is a ${e.type} with xattr ${displayPath(name)}: Linux allows user.* xattrs on files and directories only`,
          where,
        );
    }
  }
}
