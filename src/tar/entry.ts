/**
 * One tar entry as rechunker sees it, independent of the header format it came in.
 *
 * Paths and link targets are *byte strings*: each char is one byte (latin1), so names that are
 * not valid UTF-8 survive unchanged and plain string comparison sorts in byte order (what
 * `LC_ALL=C sort` gives). Use `displayPath()` to show one to a person.
 */
export type EntryType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo';

/** What a filesystem object carries besides its name, type and xattrs: shared by tar entries and inodes. */
export interface FileMeta {
  /** Permission bits including setuid, setgid and sticky (mask 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Seconds since the epoch (may be negative) and the nanoseconds within that second. */
  mtimeSec: number;
  mtimeNsec: number;
  /** Length of the content; 0 for everything but regular files. */
  size: number;
  /** Symlink target, or for a hardlink entry the path (normalised like `path`) of the file it links to. */
  linkname: string;
  devmajor: number;
  devminor: number;
}

export interface TarEntry extends FileMeta {
  /** Normalised: no leading './' or '/', no trailing '/'; '.' for the root directory. */
  path: string;
  type: EntryType;
  /** xattr name (byte string) -> raw value bytes, exactly as stored. */
  xattrs: Map<string, Buffer>;
}

export function displayPath(byteString: string): string {
  return Buffer.from(byteString, 'latin1').toString('utf8');
}

export function newEntry(path: string, type: EntryType, init: Partial<TarEntry> = {}): TarEntry {
  return {
    path,
    type,
    mode: type === 'dir' ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    mtimeSec: 0,
    mtimeNsec: 0,
    size: 0,
    linkname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
    ...init,
  };
}
