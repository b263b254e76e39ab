import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describesImage, type Descriptor } from '../oci/types.js';

const MAX_JSON = 4 * 1024 * 1024;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

interface Referencing {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  blobs?: Descriptor[];
  subject?: Descriptor;
}

/**
 * Every blob digest that the layout's index.json reaches: manifests, nested indexes, configs,
 * layers, subjects. Returns undefined when a manifest cannot be read or parsed, so a caller that
 * would delete what is unreachable deletes nothing.
 */
export async function reachableBlobs(dir: string): Promise<Set<string> | undefined> {
  let index: Referencing;
  try {
    index = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8')) as Referencing;
  } catch {
    return undefined;
  }
  const seen = new Set<string>();
  const queue: Descriptor[] = [...(index.manifests ?? [])];
  while (queue.length > 0) {
    const d = queue.pop()!;
    if (typeof d?.digest !== 'string' || !DIGEST.test(d.digest) || seen.has(d.digest)) continue;
    seen.add(d.digest);
    if (!describesImage(d) || d.size > MAX_JSON) continue;
    let doc: Referencing;
    try {
      doc = JSON.parse(await fs.readFile(path.join(dir, 'blobs', 'sha256', d.digest.slice(7)), 'utf8')) as Referencing;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // not in this layout: nothing below it is
      return undefined;
    }
    for (const list of [doc.layers, doc.manifests, doc.blobs]) if (Array.isArray(list)) queue.push(...list);
    if (doc.config) queue.push(doc.config);
    if (doc.subject) queue.push(doc.subject);
  }
  return seen;
}
