import { promises as fs } from 'node:fs';
import { createReadStream } from 'node:fs';
import { getAttribute, listAttributes } from 'fs-xattr';
import { RechunkerError } from '../errors.js';
import { newEntry, type EntryType } from '../tar/entry.js';
import type { TarWriteItem } from '../tar/writer.js';

/**
 * A layer tar made by walking an overlay diff dir, for a layer without a tar-split record. The
 * diff dir is an overlayfs upper directory, so its own spellings become OCI's:
 *   a 0/0 character device NAME             -> the whiteout `.wh.NAME`
 *   a directory with *.overlay.opaque = y   -> the directory and `DIR/.wh..wh..opq`
 *   *.overlay.metacopy / *.overlay.redirect -> refused: the entry's data or name lives in another
 *                                              layer, and copying it as it lies would be wrong
 * Entries come in byte order, hardlinks within the layer as links to the first name, so the same
 * directory always gives the same tar.
 */

const OVERLAY_XATTR = /^(trusted|user)\.overlay\./;

async function readXattrs(file: string, isLink: boolean): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  if (isLink) return out;
  let names: string[];
  try {
    names = await listAttributes(file);
  } catch {
    return out;
  }
  for (const name of names.sort())
    out.set(Buffer.from(name, 'utf8').toString('latin1'), await getAttribute(file, name));
  return out;
}

function typeOf(st: import('node:fs').BigIntStats): EntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  if (st.isFIFO()) return 'fifo';
  return undefined;
}

const major = (dev: bigint) => Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
const minor = (dev: bigint) => Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));

export async function* walkDiffDir(diffDir: string, where: string): AsyncGenerator<TarWriteItem> {
  const links = new Map<string, string>();
  const root = Buffer.from(diffDir, 'utf8').toString('latin1');
  async function* visit(rel: string): AsyncGenerator<TarWriteItem> {
    const names = (
      await fs.readdir(Buffer.from(rel === '' ? root : `${root}/${rel}`, 'latin1'), { encoding: 'buffer' })
    )
      .map((n) => n.toString('latin1'))
      .sort();
    for (const name of names) {
      const p = rel === '' ? name : `${rel}/${name}`;
      const abs = Buffer.from(`${root}/${p}`, 'latin1');
      const absText = abs.toString('utf8');
      const st = await fs.lstat(abs, { bigint: true });
      const type = typeOf(st);
      if (!type) throw new RechunkerError('UNSUPPORTED', `${where}: "${absText}" is a socket or unknown file type`);
      if (type === 'chardev' && st.rdev === 0n) {
        yield { entry: newEntry(whiteoutPath(rel, name), 'file', { mode: 0o644 }) };
        continue;
      }
      const all = await readXattrs(absText, type === 'symlink');
      for (const k of all.keys()) {
        if (/^(trusted|user)\.overlay\.(metacopy|redirect)$/.test(k)) {
          throw new RechunkerError(
            'UNSUPPORTED',
            `${where}: "${absText}" carries ${k} (overlayfs metacopy/redirect_dir) and the layer has no tar-split record to rebuild it from`,
          );
        }
      }
      const opaque =
        type === 'dir' &&
        [...all].some(([k, v]) => /^(trusted|user)\.overlay\.opaque$/.test(k) && v.toString() === 'y');
      const xattrs = new Map([...all].filter(([k]) => !OVERLAY_XATTR.test(k)));
      const meta = {
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
        mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
        xattrs,
      };
      const key = `${st.dev}:${st.ino}`;
      if (type === 'file' && st.nlink > 1n && links.has(key)) {
        yield { entry: newEntry(p, 'hardlink', { ...meta, linkname: links.get(key)! }) };
        continue;
      }
      if (type === 'file') {
        if (st.nlink > 1n) links.set(key, p);
        const size = Number(st.size);
        yield {
          entry: newEntry(p, 'file', { ...meta, size }),
          body: size === 0 ? Buffer.alloc(0) : createReadStream(abs),
        };
      } else if (type === 'symlink') {
        const target = (await fs.readlink(abs, { encoding: 'buffer' })).toString('latin1');
        yield { entry: newEntry(p, 'symlink', { ...meta, linkname: target }) };
      } else if (type === 'dir') {
        yield { entry: newEntry(p, 'dir', meta) };
        if (opaque) yield { entry: newEntry(`${p}/.wh..wh..opq`, 'file', { mode: 0o644 }) };
        yield* visit(p);
      } else {
        yield { entry: newEntry(p, type, { ...meta, devmajor: major(st.rdev), devminor: minor(st.rdev) }) };
      }
    }
  }
  yield* visit('');
}

function whiteoutPath(rel: string, name: string): string {
  return rel === '' ? `.wh.${name}` : `${rel}/.wh.${name}`;
}
