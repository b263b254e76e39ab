import type { TransferSummary } from '../engine/blob-tally.js';
import { formatBytes } from '../util/format-bytes.js';

/** Where the bytes went, in one line: what was sent, what the destination had or mounted. */
export function transferLine(t: TransferSummary): string {
  const parts = [`${t.uploaded} uploaded (${formatBytes(t.uploadedBytes)})`];
  if (t.mounted > 0) parts.push(`${t.mounted} mounted`);
  parts.push(`${t.skipped} already there`);
  return `blobs: ${parts.join(', ')}; ${formatBytes(t.totalBytes)} compressed in all`;
}
