import { createHash } from 'node:crypto';
import { encodeEntryHeader } from '../tar/header-encode.js';
import { BLOCK_SIZE } from '../tar/header.js';
import type { LayerItem } from './output-entries.js';

/**
 * Names the tar writer's framing (ustar + PAX headers, bodies padded to a block, two zero blocks
 * at the end, nothing more): a writer that frames otherwise must change it, or a digest recorded
 * by an older build would vouch for bytes this one no longer writes.
 */
const TAR_FRAMING = 'rechunker-tar/1';

export interface EntriesSummary {
  /** sha256 over every header's exact bytes and every body's sha256: the tar, without its bodies. */
  digest: string;
  /** Bytes of the tar these entries make. */
  tarSize: number;
}

/**
 * What a layer's tar will be, from its entries alone: writeTar is deterministic, so two layers
 * with the same header bytes and the same body digests are the same tar, and a layer whose
 * summary digest is the prior build's has the prior's diff_id, without a byte of it read or hashed.
 */
export function summarizeEntries(items: Iterable<LayerItem>): EntriesSummary {
  const h = createHash('sha256').update(`${TAR_FRAMING}\n`);
  let tarSize = 2 * BLOCK_SIZE;
  for (const { entry, body, contentDigest } of items) {
    const header = encodeEntryHeader(entry);
    h.update(`${header.length}\n`).update(header);
    tarSize += header.length + Math.ceil(entry.size / BLOCK_SIZE) * BLOCK_SIZE;
    if (body === undefined) h.update('-\n');
    else if (contentDigest !== undefined) h.update(`${contentDigest}\n`);
    else throw new Error(`internal: ${entry.path} has a body but no content digest`);
  }
  return { digest: `sha256:${h.digest('hex')}`, tarSize };
}
