import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RechunkerError } from '../errors.js';
import { displayPath } from '../tar/entry.js';
import { readTar } from '../tar/reader.js';

/** The only names an OCI layout's files may have (image-spec image-layout.md, sha256 only). */
const BLOB = /^blobs\/sha256\/([a-f0-9]{64})$/;
const TOP_FILES = new Set(['oci-layout', 'index.json']);

export interface ExtractResult {
  /** Blob digests written. */
  blobs: number;
  /** Entries with other names, left out. */
  ignored: string[];
}

/**
 * Extract the OCI image layout held in the tar `file` (skopeo's oci-archive) into `dir`, which
 * must exist and be ours (an empty temp dir). Only `oci-layout`, `index.json` and
 * `blobs/sha256/<64 hex>` are written, each to a path built from that checked name, so nothing
 * can land outside `dir`; other names are ignored, except under `blobs/`, where a name that is
 * not a digest means the archive is not what it claims. Unsafe paths (absolute, `..`) are refused
 * by the tar reader; symlinks, hardlinks and devices are refused here: a layout has none. Bodies
 * are streamed to disk.
 */
export async function extractLayout(file: string, dir: string, where = `oci-archive:${file}`): Promise<ExtractResult> {
  const result: ExtractResult = { blobs: 0, ignored: [] };
  let input: Readable;
  try {
    await fs.access(file);
    input = createReadStream(file, { highWaterMark: 1024 * 1024 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RechunkerError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'IO',
      `${where}: cannot read the archive: ${code ?? String(e)}`,
      { cause: e },
    );
  }
  let made = false;
  try {
    for await (const { entry, body } of readTar(input as AsyncIterable<Buffer>, { where })) {
      const shown = displayPath(entry.path);
      if (entry.type === 'dir') continue;
      if (entry.type !== 'file') {
        throw new RechunkerError(
          'UNSAFE_PATH',
          `${where}: entry "${shown}" is a ${entry.type}; an OCI layout archive holds only regular files and directories`,
        );
      }
      let dest: string;
      const blob = BLOB.exec(entry.path);
      if (blob) {
        if (!made) await fs.mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
        made = true;
        dest = path.join(dir, 'blobs', 'sha256', blob[1]!);
        result.blobs++;
      } else if (TOP_FILES.has(entry.path)) {
        dest = path.join(dir, entry.path);
      } else if (entry.path.startsWith('blobs/')) {
        throw new RechunkerError(
          'BAD_TAR',
          `${where}: "${shown}" is not a blob name of an OCI layout (expected blobs/sha256/<64 hex digits>)`,
        );
      } else {
        result.ignored.push(entry.path);
        continue;
      }
      // 'w' replaces an earlier entry of the same name, as tar does; dest is a plain name in
      // our own directory, so there is no link to follow.
      await pipeline(Readable.from(body, { objectMode: false }), createWriteStream(dest, { flags: 'w', mode: 0o644 }));
    }
  } finally {
    input.destroy();
  }
  try {
    await fs.access(path.join(dir, 'index.json'));
  } catch {
    throw new RechunkerError('BAD_MANIFEST', `${where}: not an OCI archive (no index.json in the tar)`);
  }
  return result;
}
