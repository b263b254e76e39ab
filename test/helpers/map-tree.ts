/**
 * An in-memory TreeView for tests: a list of entries becomes a tree, with missing parent
 * directories added. Written independently of the file graph so the two can check each other.
 */
import type { EntryType } from '../../src/tar/entry.js';
import type { TreeNodeInfo, TreeView } from '../../src/components/types.js';

export interface MapTreeEntry {
  path: string;
  /** Default 'file'. */
  type?: EntryType;
  /** Default: the content's length. */
  size?: number;
  /** A string is taken as latin1 bytes, like every path. */
  content?: Buffer | string;
  linkname?: string;
  xattrs?: Record<string, Buffer | string>;
  /** Other paths of its hardlink set; declaring it on one member is enough. */
  links?: string[];
}

interface Node extends TreeNodeInfo {
  content: Buffer;
}

const MAX_HOPS = 40;

/**
 * resolveParents over any lookup: follow symlinks in every component but the last, relative
 * targets from the link's directory, absolute ones from the root, '..' stopping at the root.
 * On a loop the input comes back unchanged.
 */
export function resolveParentsWith(
  lookup: (p: string) => { type: EntryType; linkname: string } | undefined,
  path: string,
): string {
  const parts = path.split('/');
  const last = parts.pop()!;
  const queue = parts.filter((p) => p !== '');
  const done: string[] = [];
  let hops = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '.') continue;
    if (c === '..') {
      done.pop();
      continue;
    }
    const node = lookup([...done, c].join('/'));
    if (node?.type === 'symlink') {
      if (++hops > MAX_HOPS) return path;
      if (node.linkname.startsWith('/')) done.length = 0;
      queue.unshift(...node.linkname.split('/').filter((p) => p !== ''));
    } else {
      done.push(c);
    }
  }
  return [...done, last].join('/');
}

export class MapTree implements TreeView {
  private readonly nodes = new Map<string, Node>();
  private readonly sorted: string[];

  constructor(entries: MapTreeEntry[]) {
    for (const e of entries) {
      const path = e.path.replace(/^\/+|\/+$/g, '');
      const content = typeof e.content === 'string' ? Buffer.from(e.content, 'latin1') : (e.content ?? Buffer.alloc(0));
      const xattrs = new Map<string, Buffer>();
      for (const [k, v] of Object.entries(e.xattrs ?? {}))
        xattrs.set(k, typeof v === 'string' ? Buffer.from(v, 'latin1') : v);
      this.nodes.set(path, {
        type: e.type ?? 'file',
        size: e.size ?? content.length,
        linkname: e.linkname ?? '',
        xattrs,
        links: [path],
        content,
      });
      for (let dir = parent(path); dir !== ''; dir = parent(dir)) {
        if (!this.nodes.has(dir))
          this.nodes.set(dir, {
            type: 'dir',
            size: 0,
            linkname: '',
            xattrs: new Map(),
            links: [dir],
            content: Buffer.alloc(0),
          });
      }
    }
    // Hardlink sets: the union of every declared link; members share their content.
    for (const e of entries) {
      if (e.links === undefined || e.links.length === 0) continue;
      const path = e.path.replace(/^\/+|\/+$/g, '');
      const set = new Set([path, ...e.links]);
      for (const m of [...set]) for (const l of this.nodes.get(m)?.links ?? []) set.add(l);
      const links = [...set].sort();
      const content = [...set].map((m) => this.nodes.get(m)?.content).find((c) => c !== undefined && c.length > 0);
      for (const m of links) {
        const n = this.nodes.get(m);
        if (n === undefined) throw new Error(`MapTree: hardlink member ${m} is not an entry`);
        n.links = links;
        if (content !== undefined && n.content.length === 0) {
          n.content = content;
          n.size = Math.max(n.size, content.length);
        }
      }
    }
    this.sorted = [...this.nodes.keys()].sort();
  }

  paths(): Iterable<string> {
    return this.sorted;
  }

  lookup(path: string): TreeNodeInfo | undefined {
    return this.nodes.get(path);
  }

  async readFile(path: string): Promise<Buffer> {
    const n = this.nodes.get(path);
    if (n === undefined || (n.type !== 'file' && n.type !== 'hardlink')) {
      throw Object.assign(new Error(`ENOENT: no regular file ${path}`), { code: 'ENOENT' });
    }
    return n.content;
  }

  resolveParents(path: string): string {
    return resolveParentsWith((p) => this.nodes.get(p), path);
  }
}

function parent(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
