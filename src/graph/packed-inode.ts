import type { EntryType, FileMeta } from '../tar/entry.js';
import type { ContentId } from './content-index.js';

/** Metadata and content of one filesystem object; shared by every path of a hardlink set. */
export interface Inode extends FileMeta {
  type: Exclude<EntryType, 'hardlink'>;
  xattrs: Map<string, Buffer> | null;
  /** Its id in the graph's ContentIndex (FileGraph.contents); null for all but regular files. */
  content: ContentId | null;
  /** Some entry hardlinked to it: its paths must be kept together. */
  linked: boolean;
}

/**
 * An inode in 8 fields instead of 15 (88 bytes instead of 144 on 64-bit V8; an image has one per
 * file, 250,000 in a large one). Type, mode and the hardlink flag share one small integer, and
 * what most inodes leave at its default (owner names, link target, device numbers, xattrs) is in
 * one record that inodes with nothing of their own share.
 */
class PackedInode implements Inode {
  /** TYPES index in bits 0-2, mode in bits 3-14, linked in bit 15. */
  private bits: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  mtimeNsec: number;
  size: number;
  content: ContentId | null;
  private rare: Rare;

  constructor(i: Inode) {
    this.bits = typeIndex(i.type) | ((i.mode & 0o7777) << 3) | (i.linked ? LINKED : 0);
    this.uid = i.uid;
    this.gid = i.gid;
    this.mtimeSec = i.mtimeSec;
    this.mtimeNsec = i.mtimeNsec;
    this.size = i.size;
    this.content = i.content;
    this.rare = rareOf(i.uname, i.gname, i.linkname, i.devmajor, i.devminor, i.xattrs);
  }

  get type(): Inode['type'] {
    return TYPES[this.bits & 7]!;
  }
  set type(t: Inode['type']) {
    this.bits = (this.bits & ~7) | typeIndex(t);
  }
  get mode(): number {
    return (this.bits >> 3) & 0o7777;
  }
  set mode(m: number) {
    this.bits = (this.bits & ~(0o7777 << 3)) | ((m & 0o7777) << 3);
  }
  get linked(): boolean {
    return (this.bits & LINKED) !== 0;
  }
  set linked(l: boolean) {
    this.bits = l ? this.bits | LINKED : this.bits & ~LINKED;
  }
  get uname(): string {
    return this.rare.uname;
  }
  set uname(v: string) {
    this.edit({ uname: v });
  }
  get gname(): string {
    return this.rare.gname;
  }
  set gname(v: string) {
    this.edit({ gname: v });
  }
  get linkname(): string {
    return this.rare.linkname;
  }
  set linkname(v: string) {
    this.edit({ linkname: v });
  }
  get devmajor(): number {
    return this.rare.devmajor;
  }
  set devmajor(v: number) {
    this.edit({ devmajor: v });
  }
  get devminor(): number {
    return this.rare.devminor;
  }
  set devminor(v: number) {
    this.edit({ devminor: v });
  }
  /** The map is this inode's own (never shared), so callers may change it in place. */
  get xattrs(): Map<string, Buffer> | null {
    return this.rare.xattrs;
  }
  set xattrs(v: Map<string, Buffer> | null) {
    this.edit({ xattrs: v });
  }

  /** A shared record is never changed: the inode takes another one. */
  private edit(change: Partial<Rare>): void {
    const r = { ...this.rare, ...change };
    this.rare = rareOf(r.uname, r.gname, r.linkname, r.devmajor, r.devminor, r.xattrs);
  }
}

const TYPES: readonly Inode['type'][] = ['file', 'dir', 'symlink', 'chardev', 'blockdev', 'fifo'];
const LINKED = 1 << 15;

function typeIndex(t: Inode['type']): number {
  const i = TYPES.indexOf(t);
  if (i < 0) throw new Error(`internal: no inode type ${t}`);
  return i;
}

interface Rare {
  readonly uname: string;
  readonly gname: string;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  readonly xattrs: Map<string, Buffer> | null;
}

/** Records with only owner names, by `uname\0gname`: an image has a handful of owner pairs. */
const shared = new Map<string, Rare>();

function rareOf(
  uname: string,
  gname: string,
  linkname: string,
  devmajor: number,
  devminor: number,
  xattrs: Map<string, Buffer> | null,
): Rare {
  if (linkname !== '' || devmajor !== 0 || devminor !== 0 || xattrs !== null)
    return { uname, gname, linkname, devmajor, devminor, xattrs };
  const key = `${uname}\0${gname}`;
  let r = shared.get(key);
  if (r === undefined) {
    r = Object.freeze({ uname, gname, linkname: '', devmajor: 0, devminor: 0, xattrs: null });
    shared.set(key, r);
  }
  return r;
}

/** The same inode, packed: what the graph keeps per file. */
export function packInode(fields: Inode): Inode {
  return new PackedInode(fields);
}
