import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContentStore } from '../../src/graph/content-store.js';
import { isDir } from '../../src/graph/file-graph.js';
import { loadImage } from '../../src/graph/load-image.js';
import { silentProgress } from '../../src/progress.js';
import { hostPlatform } from '../../src/oci/platform.js';
import type { Platform } from '../../src/oci/types.js';
import { openSource } from '../../src/engine/open-reference.js';
import type { TreeEntry } from './tree-snapshot.js';

/**
 * An image flattened with OCI semantics, in the shape snapshotTree gives for a directory, so
 * compareTrees can hold an image against another image or a real tree.
 */
export async function imageTree(ref: string, platform: Platform = hostPlatform()): Promise<Map<string, TreeEntry>> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-imgtree-'));
  const store = await ContentStore.create(work);
  const source = await openSource(ref);
  try {
    const graph = await loadImage(source, await source.resolve(platform), store, silentProgress);
    const sets = graph.hardlinkSets();
    const out = new Map<string, TreeEntry>();
    for (const [p, node] of graph.walk()) {
      const i = node.inode;
      const e: TreeEntry = {
        type: i.type === 'file' ? 'file' : i.type,
        mode: i.mode,
        uid: i.uid,
        gid: i.gid,
        mtimeNs: BigInt(i.mtimeSec) * 1_000_000_000n + BigInt(i.mtimeNsec),
        size: BigInt(i.size),
        xattrs: new Map([...(i.xattrs ?? new Map<string, Buffer>())].map(([k, v]) => [k, v.toString('hex')])),
      };
      if (i.type === 'file') e.sha256 = i.content === null ? '' : graph.contents.sha256(i.content);
      if (i.type === 'symlink') e.symlink = i.linkname;
      if (i.type === 'chardev' || i.type === 'blockdev') e.device = { major: i.devmajor, minor: i.devminor };
      if (!isDir(node) && sets.has(i)) e.hardlinks = sets.get(i);
      out.set(p, e);
    }
    return out;
  } finally {
    await source.close();
    await store.close();
    await fs.rm(work, { recursive: true, force: true });
  }
}
