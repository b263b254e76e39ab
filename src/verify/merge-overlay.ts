import { ContentIndex } from '../graph/content-index.js';
import { isDir, type DirNode, type Node } from '../graph/file-graph.js';
import { defaultedDir, flatEntry, linkSets, UNPACK_TIME, type FlatEntry, type FlatTree } from './flat-tree.js';
import type { LayerTree } from './layer-trees.js';

export type OverlayModel = 'overlay' | 'delegate' | 'containerd';

interface Level {
  dir: DirNode;
  layer: LayerTree;
}

/**
 * Merge per-layer trees top-down as overlayfs does: a path shows the uppermost layer that has it;
 * a non-directory, a whiteout or an opaque directory hides everything below it; a directory's
 * contents are the union of the directories below it down to the first such stop; its metadata
 * comes from the uppermost layer that has it.
 *
 * `overlay`: a directory the uppermost layer only implies shows default metadata (0755, root,
 * the time of unpacking: containers/storage made it), shadowing the true one below.
 * `delegate`: such a directory takes the metadata of the nearest lower layer that defines it
 * (dirmeta_delegate, containers/container-libs PR #701), and falls back to the overlay
 * behaviour when none does.
 * `containerd`: containerd's applier (archive.Apply with the lower layers as parents, its
 * mkparent) copies mode, owner and xattrs but trusted.* from the nearest lower layer that has the
 * directory; the child it then creates bumps the mtime to the time of unpacking. Seen on 1.6.
 */
export function mergeOverlay(layers: readonly LayerTree[], model: OverlayModel): FlatTree {
  const tree: FlatTree = new Map();
  const leaves: Array<[string, object]> = [];
  const rootStack: Level[] = [];
  // Every layer's graph was read into one store (layer-trees.ts), so they share one index.
  const contents = layers[0]?.graph.contents ?? new ContentIndex();
  for (let i = layers.length - 1; i >= 0; i--) {
    rootStack.push({ dir: layers[i]!.graph.root, layer: layers[i]! });
    if (layers[i]!.opaque.has('.')) break;
  }

  const visit = (path: string, stack: Level[]): void => {
    const names = new Set<string>();
    for (const s of stack) for (const n of s.dir.children.keys()) names.add(n);
    for (const name of [...names].sort()) {
      const child = path === '' ? name : `${path}/${name}`;
      let top: Node | undefined;
      const below: Level[] = [];
      for (const s of stack) {
        const c = s.dir.children.get(name);
        if (c) {
          if (!top) top = c;
          if (!isDir(c)) break; // a non-directory hides what is below (or is hidden by the directory above)
          below.push({ dir: c, layer: s.layer });
          if (s.layer.opaque.has(child)) break;
        }
        if (s.layer.whiteouts.has(child)) break;
      }
      if (!top) continue;
      if (!isDir(top)) {
        tree.set(child, flatEntry(top.inode, false, contents));
        if (top.inode.linked) leaves.push([child, top.inode]);
        continue;
      }
      tree.set(child, dirMeta(below, model, contents));
      visit(child, below);
    }
  };
  visit('', rootStack);
  linkSets(tree, leaves);
  return tree;
}

function dirMeta(stack: Level[], model: OverlayModel, contents: ContentIndex): FlatEntry {
  const top = stack[0]!.dir;
  if (!top.implied) return flatEntry(top.inode, false, contents);
  const def = model === 'overlay' ? undefined : stack.find((s) => !s.dir.implied);
  if (!def) return defaultedDir();
  const meta = flatEntry(def.dir.inode, false, contents);
  if (model === 'delegate') return meta;
  const xattrs = new Map([...meta.xattrs].filter(([name]) => !name.startsWith('trusted.')));
  // Made by the unpacker, so counted as defaulted: verify reports it as shadowed when it differs.
  return { ...meta, mtime: UNPACK_TIME, xattrs, defaulted: true };
}
