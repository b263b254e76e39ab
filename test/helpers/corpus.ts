// Where the Debian corpus lives (built by shared/corpus/build-debian-images.sh) and what each of
// its tags must unpack to.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { mkdir, rm } from 'node:fs/promises';
import { after, before } from 'node:test';
import { Podman } from './podman.js';
import { has } from './tools.js';
import { snapshotTree, type TreeEntry } from './tree-snapshot.js';

export type CorpusTag = 'base' | 'updated' | 'updated-diff' | 'derived';
export type CorpusRootfs = 'base' | 'updated' | 'derived';

export function corpusDir(): string {
  return process.env.RECHUNKER_CORPUS ?? '/var/tmp/rechunker-corpus';
}

/** The OCI image layout holding every tag. */
export function corpusLayout(): string {
  return path.join(corpusDir(), 'oci');
}

/** The true tree of a rootfs. */
export function corpusRootfs(name: CorpusRootfs): string {
  return path.join(corpusDir(), 'rootfs', name);
}

export function hasCorpus(): boolean {
  const dir = corpusDir();
  return existsSync(path.join(dir, 'oci', 'index.json')) && existsSync(path.join(dir, 'rootfs'));
}

/** Each tag and the rootfs that applying its layers must give. */
export const CORPUS_TAGS: ReadonlyArray<{ tag: CorpusTag; rootfs: CorpusRootfs }> = [
  { tag: 'base', rootfs: 'base' },
  { tag: 'updated', rootfs: 'updated' },
  { tag: 'updated-diff', rootfs: 'updated' },
  { tag: 'derived', rootfs: 'derived' },
];

/**
 * Paths of a rootfs that no image holds: the build script's `.done` marker (its layer lists
 * leave it out), so a comparison with an image must skip it.
 */
export function corpusIgnore(p: string): boolean {
  return p === '.done';
}

/** Why corpus tests cannot run here, or undefined when they can. */
export async function corpusSkipReason(): Promise<string | undefined> {
  if (!hasCorpus()) return `no corpus at ${corpusDir()} (build it with shared/corpus/build-debian-images.sh)`;
  if (process.getuid?.() !== 0) return 'needs root (podman with the overlay driver, ownership of the true trees)';
  if (!(await has('podman'))) return 'podman is not installed';
  if (!(await has('getfattr'))) return 'getfattr (attr) is not installed';
  return undefined;
}

const truths = new Map<CorpusRootfs, Promise<Map<string, TreeEntry>>>();

/** The snapshot of a true tree, taken once per test process. */
export function trueTree(name: CorpusRootfs): Promise<Map<string, TreeEntry>> {
  let t = truths.get(name);
  if (!t) truths.set(name, (t = snapshotTree(corpusRootfs(name))));
  return t;
}

/** A scratch directory under /var/tmp whose name podman accepts (lowercase, unlike mkdtemp's). */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = `/var/tmp/${prefix}-${process.pid}-${Date.now().toString(36)}`;
  await mkdir(dir, { recursive: true });
  return dir;
}

/** What a corpus suite shares: why it skips, its podman, its scratch directory. */
export interface CorpusSuite {
  skip?: string;
  podman?: Podman;
  out: string;
}

/**
 * Call inside describe(): before the suite, find out whether the corpus tests can run here and
 * start podman and a scratch directory if so; after it, remove both.
 */
export function corpusSuite(prefix: string): CorpusSuite {
  const suite: CorpusSuite = { out: '' };
  before(async () => {
    suite.skip = await corpusSkipReason();
    if (suite.skip) return;
    suite.podman = await Podman.create();
    suite.out = await scratchDir(prefix);
  });
  after(async () => {
    await suite.podman?.cleanup();
    if (suite.out) await rm(suite.out, { recursive: true, force: true });
  });
  return suite;
}
