import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { TarReadItem } from '../tar/reader.js';
import { keepsContent, type IndexEntry, type IndexEntryType } from './index-schema.js';

const gzip = promisify(zlib.gzip);
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
/** Files up to this size are gzip'd whole on the thread pool, several at once; larger ones stream. */
const WHOLE_FILE_MAX = 1024 * 1024;
/** Small files being compressed at once: bounds the memory they hold. */
const IN_FLIGHT = 4;
const GZIP_LEVEL = 6;

/**
 * One layer's entries as index rows. Each file's content is hashed and gzip'd alone (level 6, as
 * a client fetching just that file would get it): the lower bound of an update is counted in
 * those bytes. Compression runs on libuv's thread pool, several small files at once, while the
 * next entries are read; nothing larger than WHOLE_FILE_MAX is held in memory.
 */
export async function indexLayerEntries(items: AsyncIterable<TarReadItem>): Promise<IndexEntry[]> {
  const rows: IndexEntry[] = [];
  const fileDigests = new Map<string, IndexEntry>();
  const pending = new Set<Promise<void>>();
  let seq = 0;
  for await (const { entry, body } of items) {
    const base = entry.path.slice(entry.path.lastIndexOf('/') + 1);
    const type: IndexEntryType = base === OPAQUE ? 'opaque' : base.startsWith(WHITEOUT) ? 'whiteout' : entry.type;
    const names = [...entry.xattrs.keys()].sort();
    const row: IndexEntry = {
      seq: seq++,
      path: entry.path,
      type,
      size: entry.type === 'file' ? entry.size : 0,
      digest: null,
      compressedSize: null,
      mode: entry.mode & 0o7777,
      uid: entry.uid,
      gid: entry.gid,
      uname: entry.uname,
      gname: entry.gname,
      mtimeSec: entry.mtimeSec,
      mtimeNsec: entry.mtimeNsec,
      linkname: entry.type === 'symlink' || entry.type === 'hardlink' ? entry.linkname : '',
      devmajor: entry.devmajor,
      devminor: entry.devminor,
      xattrNames: names,
      xattrValues: names.map((n) => entry.xattrs.get(n)!),
      content: null,
    };
    rows.push(row);
    if (type === 'file') {
      const kept = keepsContent(entry.path);
      if (entry.size <= WHOLE_FILE_MAX) {
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(c);
        const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        row.digest = 'sha256:' + createHash('sha256').update(whole).digest('hex');
        // A copy: the chunks are slices of the reader's buffers, which a kept row would pin.
        if (kept) row.content = Buffer.from(whole);
        while (pending.size >= IN_FLIGHT) await Promise.race(pending);
        const job: Promise<void> = gzip(whole, { level: GZIP_LEVEL }).then((z) => {
          row.compressedSize = z.length;
          pending.delete(job);
        });
        pending.add(job);
      } else {
        const r = await streamFacts(body, kept);
        row.digest = r.digest;
        row.compressedSize = r.compressed;
        row.content = r.content;
      }
      fileDigests.set(entry.path, row);
    } else if (entry.type === 'hardlink') {
      // The target, when this layer holds it: the flattener resolves the rest from lower layers.
      const target = fileDigests.get(entry.linkname);
      if (target) {
        row.digest = target.digest;
        fileDigests.set(entry.path, target);
      }
    }
  }
  await Promise.all(pending);
  return rows;
}

async function streamFacts(
  body: AsyncIterable<Buffer>,
  keep: boolean,
): Promise<{ digest: string; compressed: number; content: Buffer | null }> {
  const hash = createHash('sha256');
  const z = zlib.createGzip({ level: GZIP_LEVEL });
  let compressed = 0;
  z.on('data', (d: Buffer) => (compressed += d.length));
  const ended = new Promise<void>((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  const kept: Buffer[] = [];
  for await (const c of body) {
    hash.update(c);
    if (keep) kept.push(Buffer.from(c));
    if (!z.write(c)) await new Promise((r) => z.once('drain', r));
  }
  z.end();
  await ended;
  return { digest: 'sha256:' + hash.digest('hex'), compressed, content: keep ? Buffer.concat(kept) : null };
}
