import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { RechunkerError } from '../errors.js';
import { isMetacopy, metacopyData } from './metacopy-data.js';

/**
 * A layer's exact tar, rebuilt from containers/storage's tar-split record (vbatts/tar-split,
 * tar/storage/entry.go and tar/asm/assemble.go): one JSON object per line, in archive order,
 *   {"type":2,"payload":BASE64,"position":N}              raw bytes: headers, padding, the end
 *   {"type":1,"name":NAME,"size":N,"payload":CRC64,...}   a file's content, read from the diff dir
 * (`name_raw`, base64, replaces `name` when it is not UTF-8). The headers are the original bytes,
 * so the rebuilt stream hashes to the layer's diff_id whatever overlayfs did to the diff dir's
 * metadata; only file contents come from the directory, and their sizes are checked here.
 */

interface TarSplitEntry {
  type: number;
  name?: string;
  name_raw?: string;
  size?: number;
  payload?: string | null;
}

const FILE = 1;
const SEGMENT = 2;
/** Contents up to this size are read whole: one syscall pair instead of a stream per small file. */
const READ_WHOLE = 1 << 20;

/** The entry's path under the diff dir; a name that climbs out is refused, not followed. */
export function contentPath(diffDir: string, name: Buffer): string {
  const parts = name
    .toString('latin1')
    .split('/')
    .filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) {
    throw new RechunkerError('UNSAFE_PATH', `tar-split names "${name.toString('utf8')}", which leaves the layer`);
  }
  return Buffer.concat([Buffer.from(diffDir + '/'), Buffer.from(parts.join('/'), 'latin1')]).toString('latin1');
}

async function explainSizeMismatch(file: string, shown: string, want: number, got: number): Promise<RechunkerError> {
  const metacopy = await isMetacopy(file);
  const why = metacopy ? ' (an overlayfs metacopy entry: its data lives in a lower layer)' : '';
  return new RechunkerError(
    'DIGEST_MISMATCH',
    `"${shown}" is ${got} bytes in the diff dir, the layer's tar recorded ${want}${why}`,
  );
}

/**
 * The bytes of the layer's tar, in order. `lowerDirs` (the parent layers' diff dirs, nearest
 * first) are where an overlayfs metacopy entry's data lives: the content of such a file is read
 * where the kernel's lookup finds it (metacopy-data.ts), its own and its directories' redirects
 * followed. (containers/storage's overlayFileGetter opens the first diff dir holding the path and
 * checks no metacopy; its image layers are extracted from tars and hold none, but a store's diff
 * dir can, and then the upper's sparse copy would be read as zeros.)
 */
export async function* assembleTarSplit(
  tarSplitFile: string,
  diffDir: string,
  lowerDirs: readonly string[] = [],
): AsyncGenerator<Buffer> {
  const lines = createInterface({ input: createReadStream(tarSplitFile).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    let entry: TarSplitEntry;
    try {
      entry = JSON.parse(line) as TarSplitEntry;
    } catch (e) {
      throw new RechunkerError('BAD_TAR', `${tarSplitFile}: a line is not JSON`, { cause: e });
    }
    if (entry.type === SEGMENT) {
      if (entry.payload) yield Buffer.from(entry.payload, 'base64');
    } else if (entry.type === FILE) {
      const size = entry.size ?? 0;
      if (size === 0) continue;
      const name = entry.name_raw ? Buffer.from(entry.name_raw, 'base64') : Buffer.from(entry.name ?? '', 'utf8');
      const upper = contentPath(diffDir, name);
      const file = (await isMetacopy(upper)) ? await dataOf(name, diffDir, lowerDirs) : upper;
      yield* fileContent(file, name.toString('utf8'), size);
    } else {
      throw new RechunkerError('UNSUPPORTED', `${tarSplitFile}: unknown tar-split entry type ${entry.type}`);
    }
  }
}

/** The lower file holding a metacopy entry's data; a missing one is an error, not zeros. */
async function dataOf(name: Buffer, diffDir: string, lowerDirs: readonly string[]): Promise<string> {
  const latin1 = (dir: string) => Buffer.from(dir, 'utf8').toString('latin1');
  const found = await metacopyData(name.toString('latin1'), [diffDir, ...lowerDirs].map(latin1));
  if (found) return found;
  throw new RechunkerError(
    'NOT_FOUND',
    `"${name.toString('utf8')}" is an overlayfs metacopy entry and no lower layer holds its data`,
  );
}

async function* fileContent(file: string, shown: string, size: number): AsyncGenerator<Buffer> {
  const target = Buffer.from(file, 'latin1');
  let st: import('node:fs').Stats;
  try {
    st = await fs.lstat(target);
  } catch (e) {
    throw new RechunkerError(
      'NOT_FOUND',
      `"${shown}" is in the layer's tar but not in its diff dir ${path.dirname(file)}`,
      { cause: e },
    );
  }
  if (!st.isFile() || st.size !== size) throw await explainSizeMismatch(file, shown, size, st.isFile() ? st.size : -1);
  if (size <= READ_WHOLE) {
    const data = await fs.readFile(target);
    if (data.length !== size) throw await explainSizeMismatch(file, shown, size, data.length);
    yield data;
    return;
  }
  let seen = 0;
  for await (const chunk of createReadStream(target)) {
    seen += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
  if (seen !== size) throw await explainSizeMismatch(file, shown, size, seen);
}
