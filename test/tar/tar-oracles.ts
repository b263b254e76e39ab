/**
 * Three readings of one tar archive, as comparable trees: ours (readTar + applyLayer onto an
 * empty graph), GNU tar's extraction, and Go's archive/tar as umoci applies it (the archive
 * wrapped as the single uncompressed layer of an OCI layout, then `umoci raw unpack`). Both
 * programs run as root so that owners, devices and xattrs are kept.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RechunkerError } from '../../src/errors.js';
import { applyLayer } from '../../src/graph/apply-layer.js';
import type { ContentStore } from '../../src/graph/content-store.js';
import { FileGraph, isDir } from '../../src/graph/file-graph.js';
import { readTar } from '../../src/tar/reader.js';
import { snapshotTree, type TreeEntry } from '../helpers/tree-snapshot.js';
import { run } from '../helpers/tools.js';

/** One path as every reader can describe it; a directory nobody described has `implied`. */
export interface Seen {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size: number;
  sha256?: string;
  link?: string;
  dev?: string;
  xattrs: string;
  /** The first path (in byte order) of the hardlink set, when the path is in one. */
  linkGroup?: string;
  implied?: boolean;
}

export type Reading = { ok: true; tree: Map<string, Seen> } | { ok: false; error: string };

export async function readOurs(archive: Buffer, store: ContentStore): Promise<Reading> {
  const graph = new FileGraph(store.contents);
  try {
    await applyLayer(graph, store, readTar([archive], { where: 'archive' }), 0, 'archive');
  } catch (e) {
    if (e instanceof RechunkerError) return { ok: false, error: `${e.code}: ${e.message}` };
    throw e;
  }
  const tree = new Map<string, Seen>();
  const groups = new Map<object, string[]>();
  for (const [p, node] of graph.walk()) {
    const i = node.inode;
    const xattrs = [...(i.xattrs ?? new Map<string, Buffer>())].map(([k, v]) => `${k}=${v.toString('hex')}`);
    const seen: Seen = {
      type: i.type,
      mode: i.mode,
      uid: i.uid,
      gid: i.gid,
      mtimeNs: BigInt(i.mtimeSec) * 1_000_000_000n + BigInt(i.mtimeNsec),
      size: i.type === 'file' ? i.size : 0,
      xattrs: xattrs.sort().join(','),
    };
    if (i.type === 'file')
      seen.sha256 = i.content === null ? createHash('sha256').digest('hex') : graph.contents.sha256(i.content);
    if (i.type === 'symlink') seen.link = i.linkname;
    if (i.type === 'chardev' || i.type === 'blockdev') seen.dev = `${i.devmajor},${i.devminor}`;
    if (isDir(node) && node.implied) seen.implied = true;
    if (!isDir(node) && i.linked) {
      const g = groups.get(i);
      if (g) g.push(p);
      else groups.set(i, [p]);
    }
    tree.set(p, seen);
  }
  for (const paths of groups.values()) {
    if (paths.length < 2) continue;
    const first = [...paths].sort()[0]!;
    for (const p of paths) tree.get(p)!.linkGroup = first;
  }
  return { ok: true, tree };
}

function fromSnapshot(snap: Map<string, TreeEntry>): Map<string, Seen> {
  const tree = new Map<string, Seen>();
  for (const [p, e] of snap) {
    const seen: Seen = {
      type: e.type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      mtimeNs: e.mtimeNs,
      size: e.type === 'file' ? Number(e.size) : 0,
      xattrs: [...e.xattrs]
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(','),
    };
    if (e.sha256) seen.sha256 = e.sha256;
    if (e.symlink !== undefined) seen.link = e.symlink;
    if (e.device) seen.dev = `${e.device.major},${e.device.minor}`;
    if (e.hardlinks) seen.linkGroup = e.hardlinks[0];
    tree.set(p, seen);
  }
  return tree;
}

const GNU_FLAGS = ['--same-owner', '--numeric-owner', '-p', '--xattrs', '--xattrs-include=*'];

/** GNU tar -x; any exit status but 0 is a refusal (it keeps going and extracts the rest). */
export async function readGnu(archive: Buffer, work: string): Promise<Reading> {
  const file = path.join(work, 'a.tar');
  const out = path.join(work, 'gnu');
  await fs.writeFile(file, archive);
  await fs.mkdir(out);
  const res = await run('tar', ['-x', '-f', file, '-C', out, ...GNU_FLAGS], {
    env: { LC_ALL: 'C', PATH: process.env.PATH },
  });
  if (res.code !== 0) return { ok: false, error: `tar exit ${res.code}: ${firstLine(res.stderr)}` };
  return snapshot(out);
}

/** A tree holding a path longer than PATH_MAX cannot be walked here: no image should hold one. */
async function snapshot(dir: string): Promise<Reading> {
  try {
    return { ok: true, tree: fromSnapshot(await snapshotTree(dir)) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENAMETOOLONG')
      return { ok: false, error: 'extracted a path over PATH_MAX' };
    throw e;
  }
}

/** Go's reading, through umoci: the archive is the image's only layer. */
export async function readGo(archive: Buffer, work: string): Promise<Reading> {
  const layout = path.join(work, 'oci');
  const blobs = path.join(layout, 'blobs', 'sha256');
  await fs.mkdir(blobs, { recursive: true });
  const put = async (bytes: Buffer): Promise<{ digest: string; size: number }> => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await fs.writeFile(path.join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const layer = await put(archive);
  const config = await put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
  );
  const manifest = await put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  await fs.writeFile(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await fs.writeFile(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 't' },
        },
      ],
    }),
  );
  const out = path.join(work, 'go');
  const res = await run('umoci', ['raw', 'unpack', '--image', `${layout}:t`, out], { timeoutMs: 20_000 });
  if (res.code !== 0) return { ok: false, error: `umoci exit ${res.code}: ${lastError(res.stderr)}` };
  return snapshot(out);
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

function lastError(s: string): string {
  const lines = s
    .trim()
    .split('\n')
    .filter((l) => /error|fatal|fail/i.test(l));
  return (lines[lines.length - 1] ?? firstLine(s)).replace(/\s+/g, ' ').slice(0, 300);
}
