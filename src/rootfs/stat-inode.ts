import type { BigIntStats } from 'node:fs';
import type { Inode } from '../graph/file-graph.js';
import type { EntryType } from '../tar/entry.js';

/** What lstat can say a directory entry is; sockets have no place in a tar layer. */
export type StatType = Exclude<EntryType, 'hardlink'> | 'socket';

const S_IFMT = 0o170000n;
const TYPES = new Map<bigint, StatType>([
  [0o100000n, 'file'],
  [0o040000n, 'dir'],
  [0o120000n, 'symlink'],
  [0o020000n, 'chardev'],
  [0o060000n, 'blockdev'],
  [0o010000n, 'fifo'],
  [0o140000n, 'socket'],
]);

export function statType(st: BigIntStats): StatType {
  const t = TYPES.get(st.mode & S_IFMT);
  if (!t) throw new Error(`unknown file type in mode 0o${st.mode.toString(8)}`);
  return t;
}

/** glibc's gnu_dev_major / gnu_dev_minor on a 64-bit dev_t. */
export function splitDevice(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

const NS = 1_000_000_000n;

/** Nanoseconds since the epoch as whole seconds (floored, so may be negative) and 0..999999999 ns. */
export function splitMtime(mtimeNs: bigint): { sec: number; nsec: number } {
  let sec = mtimeNs / NS;
  let nsec = mtimeNs % NS;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

/**
 * The graph's inode for what lstat (bigint, so nanoseconds and large inode numbers are exact)
 * reported. Owners are numeric only (uname/gname empty), as in the layers container builds write.
 * Content is filled in later, once the file has been read into the store.
 */
export function inodeFromStat(
  st: BigIntStats,
  extra: { linkname?: string; xattrs?: Map<string, Buffer> | null } = {},
): Inode {
  const type = statType(st);
  if (type === 'socket') throw new Error('inodeFromStat: a socket has no inode in a layer');
  const { sec, nsec } = splitMtime(st.mtimeNs);
  const dev = type === 'chardev' || type === 'blockdev' ? splitDevice(st.rdev) : { major: 0, minor: 0 };
  return {
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    uname: '',
    gname: '',
    mtimeSec: sec,
    mtimeNsec: nsec,
    size: type === 'file' ? Number(st.size) : 0,
    linkname: type === 'symlink' ? (extra.linkname ?? '') : '',
    devmajor: dev.major,
    devminor: dev.minor,
    xattrs: extra.xattrs && extra.xattrs.size > 0 ? extra.xattrs : null,
    content: null,
    linked: false,
  };
}
