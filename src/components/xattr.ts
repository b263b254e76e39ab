/**
 * Components declared by the image's author with xattrs (chunkah's convention):
 * `user.component` names the component, `user.update-interval` says how often (in days) it is
 * expected to change. A path's own value wins; otherwise the nearest ancestor directory that
 * has one passes it down, so tagging `/opt/app` tags everything below it.
 */
import type { TreeView } from './types.js';

export const COMPONENT_XATTR = 'user.component';
export const UPDATE_INTERVAL_XATTR = 'user.update-interval';

export interface XattrFacts {
  /** Effective `user.component` value (byte string), own or inherited. */
  component?: string;
  /** Effective `user.update-interval` in days, own or inherited. */
  updateIntervalDays?: number;
}

/** Values are text typed by a person with setfattr; a trailing NUL or newline is not meant. */
function cleanValue(v: Buffer): string | undefined {
  const s = v
    .toString('latin1')
    .replace(/[\0\s]+$/, '')
    .replace(/^\s+/, '');
  return s === '' ? undefined : s;
}

function parseDays(v: Buffer): number | undefined {
  const s = cleanValue(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * Effective xattr facts for every non-directory path that has any, own or inherited. Paths
 * with neither attribute are absent from the map. Only directories pass values down: a
 * symlink's or file's value is its own.
 */
export function xattrFacts(tree: TreeView): Map<string, XattrFacts> {
  // Inherited values per directory, memoised: the tree's byte order lists a parent before its
  // children but not next to them ('a', 'a-b', 'a/c'), so a stack walk like chunkah's would not do.
  const dirMemo = new Map<string, XattrFacts>();
  const inherited = (dir: string): XattrFacts => {
    // Climb to the nearest known ancestor, then come back down: a loop, since depth comes from the image.
    const chain: string[] = [];
    let facts: XattrFacts = {};
    for (let d = dir; d !== ''; d = parentOf(d)) {
      const hit = dirMemo.get(d);
      if (hit !== undefined) {
        facts = hit;
        break;
      }
      chain.push(d);
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const node = tree.lookup(chain[i]!);
      if (node !== undefined) facts = merge(own(node.xattrs), facts);
      dirMemo.set(chain[i]!, facts);
    }
    return facts;
  };

  const out = new Map<string, XattrFacts>();
  for (const path of tree.paths()) {
    const node = tree.lookup(path);
    if (node === undefined || node.type === 'dir') continue;
    const facts = merge(own(node.xattrs), inherited(parentOf(path)));
    if (facts.component !== undefined || facts.updateIntervalDays !== undefined) out.set(path, facts);
  }
  return out;
}

function own(xattrs: ReadonlyMap<string, Buffer>): XattrFacts {
  const facts: XattrFacts = {};
  const c = xattrs.get(COMPONENT_XATTR);
  if (c !== undefined) {
    const v = cleanValue(c);
    if (v !== undefined) facts.component = v;
  }
  const u = xattrs.get(UPDATE_INTERVAL_XATTR);
  if (u !== undefined) {
    const d = parseDays(u);
    if (d !== undefined) facts.updateIntervalDays = d;
  }
  return facts;
}

/** Each attribute is inherited on its own: a file may name its component and inherit its interval. */
function merge(mine: XattrFacts, parent: XattrFacts): XattrFacts {
  const out: XattrFacts = {};
  const component = mine.component ?? parent.component;
  const days = mine.updateIntervalDays ?? parent.updateIntervalDays;
  if (component !== undefined) out.component = component;
  if (days !== undefined) out.updateIntervalDays = days;
  return out;
}
