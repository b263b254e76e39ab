/**
 * A component's content fingerprint: sha256 over its sorted paths, each with the metadata its
 * layer would record (type, mode, owner, mtime, size, link target, device numbers, xattrs) and its
 * content digest. Two builds whose fingerprints for a component agree write that component's
 * files identically, so a layer made only of such components keeps its digest. The next build
 * compares fingerprints with the prior plan's to learn which components changed and how often.
 */
import { createHash } from 'node:crypto';
import type { Component } from '../components/types.js';
import { isDir, type FileGraph } from '../graph/file-graph.js';
import { byteOrder } from '../util/byte-order.js';

/** Hex characters kept in a plan: 128 bits tells changes apart and keeps the label small. */
const FINGERPRINT_HEX = 32;

function componentFingerprint(graph: FileGraph, component: Component): string {
  const h = createHash('sha256');
  const paths = [...component.paths].sort(byteOrder);
  // One update a file (the hash reads the same bytes as from an update a field): for 250,000
  // files, an update a field was 0.4 s of the build.
  for (const p of paths) {
    const node = graph.get(p);
    if (node === undefined) {
      h.update(`${p}\0missing\n`);
      continue;
    }
    const i = node.inode;
    const line =
      `${p}\0${isDir(node) ? 'dir' : i.type} ${i.mode} ${i.uid} ${i.gid} ${i.uname} ${i.gname} ` +
      `${i.mtimeSec}.${i.mtimeNsec} ${i.size} ${i.devmajor}:${i.devminor} ${i.linked ? 'L' : '-'} ` +
      `${i.linkname}\0${i.content === null ? '-' : graph.contents.sha256(i.content)}`;
    if (i.xattrs === null) {
      h.update(`${line}\n`);
      continue;
    }
    h.update(line);
    for (const k of [...i.xattrs.keys()].sort()) {
      const v = i.xattrs.get(k)!;
      h.update(`\0${k}\0${v.length}\0`);
      h.update(v);
    }
    h.update('\n');
  }
  return h.digest('hex').slice(0, FINGERPRINT_HEX);
}

/** Fingerprints of every component, by name. */
export function fingerprintComponents(graph: FileGraph, components: readonly Component[]): Map<string, string> {
  return new Map(components.map((c) => [c.name, componentFingerprint(graph, c)]));
}
