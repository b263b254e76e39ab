import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { ContentStore } from '../../src/graph/content-store.js';

/**
 * A content store in a temporary directory for the tests of the enclosing describe block: made
 * before them, closed and removed after. Read `.store` inside a test, not when the block is declared.
 */
export function scratchStore(prefix: string): { readonly store: ContentStore } {
  const box: { store?: ContentStore; dir?: string } = {};
  before(async () => {
    box.dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    box.store = await ContentStore.create(box.dir);
  });
  after(async () => {
    await box.store?.close();
    if (box.dir) await fs.rm(box.dir, { recursive: true, force: true });
  });
  return {
    get store(): ContentStore {
      if (!box.store) throw new Error('scratchStore: read before its before() hook ran');
      return box.store;
    },
  };
}
