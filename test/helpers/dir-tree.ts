/**
 * A TreeView over a real directory (the corpus's rootfs trees), scanned once with lstat.
 * Names are read as Buffers and kept as latin1 byte strings, so non-UTF-8 names survive.
 * Node has no xattr API, so xattrs are empty here; hardlink sets come from (dev, ino).
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { EntryType } from '../../src/tar/entry.js';
import type { TreeNodeInfo, TreeView } from '../../src/components/types.js';
import { resolveParentsWith } from './map-tree.js';

export class DirTree implements TreeView {
  private readonly nodes = new Map<string, TreeNodeInfo>();
  private readonly sorted: string[];
  private readonly root: Buffer;

  constructor(root: string) {
    this.root = Buffer.from(root.replace(/\/+$/, ''));
    const byInode = new Map<string, string[]>();
    const walk = (rel: string): void => {
      for (const name of readdirSync(this.abs(rel), { encoding: 'buffer' })) {
        const path = rel === '' ? name.toString('latin1') : `${rel}/${name.toString('latin1')}`;
        const st = lstatSync(this.abs(path), { bigint: true });
        const type = typeOf(st.mode);
        if (type === undefined) continue; // sockets do not go into images
        const links = [path];
        if (type === 'file' && st.nlink > 1n) {
          const key = `${st.dev}:${st.ino}`;
          const set = byInode.get(key) ?? [];
          set.push(path);
          byInode.set(key, set);
        }
        this.nodes.set(path, {
          type,
          size: type === 'file' ? Number(st.size) : 0,
          linkname: type === 'symlink' ? linkTarget(this.abs(path)) : '',
          xattrs: new Map(),
          links,
        });
        if (type === 'dir') walk(path);
      }
    };
    walk('');
    for (const set of byInode.values()) {
      if (set.length < 2) continue;
      set.sort();
      for (const p of set) (this.nodes.get(p) as { links: readonly string[] }).links = set;
    }
    this.sorted = [...this.nodes.keys()].sort();
  }

  private abs(rel: string): Buffer {
    return rel === '' ? this.root : Buffer.concat([this.root, Buffer.from(`/${rel}`, 'latin1')]);
  }

  paths(): Iterable<string> {
    return this.sorted;
  }

  lookup(path: string): TreeNodeInfo | undefined {
    return this.nodes.get(path);
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(this.abs(path));
  }

  resolveParents(path: string): string {
    return resolveParentsWith((p) => this.nodes.get(p), path);
  }
}

function typeOf(mode: bigint): EntryType | undefined {
  switch (Number(mode & 0o170000n)) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    case 0o020000:
      return 'chardev';
    case 0o060000:
      return 'blockdev';
    case 0o010000:
      return 'fifo';
    default:
      return undefined;
  }
}

function linkTarget(abs: Buffer): string {
  return readlinkSync(abs, { encoding: 'buffer' }).toString('latin1');
}
