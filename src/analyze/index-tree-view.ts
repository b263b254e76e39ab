import type { ContentId } from '../graph/content-index.js';
import type { ContentStore } from '../graph/content-store.js';
import { GraphTreeView } from '../components/graph-tree-view.js';
import { RechunkerError } from '../errors.js';
import { displayPath } from '../tar/entry.js';
import type { IndexedImageTree } from './index-flatten.js';

/**
 * The flattened index as component detectors see it: GraphTreeView's paths, lookups and symlink
 * resolution, with file contents from what the index kept (index-schema.ts keepsContent). A
 * detector that reads a file the index did not keep gets a one-line error naming it, so a change
 * in what detection reads shows at once instead of as silently missing packages.
 */
export function indexTreeView(tree: IndexedImageTree, name: string): GraphTreeView {
  const store = {
    async readAll(id: ContentId): Promise<Buffer> {
      const sha256 = tree.graph.contents.sha256(id);
      const kept = tree.contents.get(sha256)?.content;
      if (kept) return kept;
      const at = [...tree.graph.walk()].find(([, n]) => n.inode.content === id)?.[0] ?? sha256;
      throw new RechunkerError(
        'UNSUPPORTED',
        `${name}: the analyze index keeps no content for ${displayPath(at)}; component detection needs it (index-schema.ts keepsContent)`,
      );
    },
  } as Pick<ContentStore, 'readAll'> as ContentStore;
  return new GraphTreeView(tree.graph, store);
}
