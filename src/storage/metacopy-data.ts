import { promises as fs } from 'node:fs';
import { getAttribute, listAttributes } from 'fs-xattr';
import { RechunkerError } from '../errors.js';

/**
 * Where the data of an overlayfs metacopy entry lives, found as the kernel's lookup finds it
 * (fs/overlayfs/namei.c): the path is looked up layer by layer, top first, and a layer may change
 * the path the layers below it are asked for:
 *   a dir (or metacopy file) with *.overlay.redirect = "/a/b"  -> below, it is /a/b
 *   ... with a redirect of one name "b"                        -> below, it is that name in the same parent
 *   an opaque dir, a whiteout or a non-dir on the way          -> nothing below shows through
 * So a file chmodded inside a renamed directory has its data under the directory's old name, even
 * though the file itself carries no redirect. Paths are latin1 strings of the raw bytes.
 */

const PREFIXES = ['trusted.overlay.', 'user.overlay.'] as const;

/** The overlay xattr `name` (trusted.*, or user.* as an unprivileged mount writes it). */
export async function overlayXattr(file: string, name: string): Promise<Buffer | undefined> {
  const target = Buffer.from(file, 'latin1').toString('utf8');
  for (const prefix of PREFIXES) {
    try {
      return await getAttribute(target, prefix + name);
    } catch {
      // not set under this prefix
    }
  }
  return undefined;
}

/** One listxattr, as this is asked of every file of a layer and almost none has any xattr. */
export async function isMetacopy(file: string): Promise<boolean> {
  try {
    const names = await listAttributes(Buffer.from(file, 'latin1').toString('utf8'));
    return PREFIXES.some((prefix) => names.includes(`${prefix}metacopy`));
  } catch {
    return false;
  }
}

async function lstat(file: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fs.lstat(Buffer.from(file, 'latin1'));
  } catch {
    return undefined;
  }
}

function split(p: string): string[] {
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw new RechunkerError('UNSAFE_PATH', `an overlay redirect names "${p}", which climbs`);
  return parts;
}

const join = (layer: string, parts: readonly string[]) => `${layer}/${parts.join('/')}`;

/**
 * The path, in the layer below `layer`, of what `parts` names in `layer`; undefined when that layer
 * hides everything below it (an opaque dir or a whiteout on the way).
 */
async function pathBelow(layer: string, parts: readonly string[]): Promise<string[] | undefined> {
  const below: string[] = [];
  for (const [k, part] of parts.entries()) {
    const here = join(layer, parts.slice(0, k + 1));
    below.push(part);
    const st = await lstat(here);
    // Not in this layer: the rest of the path is looked up below as it is.
    if (!st) return [...below, ...parts.slice(k + 1)];
    const last = k === parts.length - 1;
    if (!last && !st.isDirectory()) return undefined;
    const redirect = (await overlayXattr(here, 'redirect'))?.toString('latin1');
    if (redirect?.startsWith('/')) below.splice(0, below.length, ...split(redirect));
    else if (redirect) below.splice(below.length - 1, 1, ...split(redirect));
    if (!last && (await overlayXattr(here, 'opaque'))?.toString() === 'y') return undefined;
  }
  return below;
}

/**
 * The file holding the data of `name`, a metacopy entry of `layers[0]`; `layers` are diff dirs,
 * topmost first, the entry's own layer and then its lowers.
 */
export async function metacopyData(name: string, layers: readonly string[]): Promise<string | undefined> {
  let parts: string[] | undefined = split(name);
  for (const [i, layer] of layers.entries()) {
    if (i > 0) {
      const file = join(layer, parts);
      const st = await lstat(file);
      if (st && !st.isFile()) return undefined;
      if (st && !(await isMetacopy(file))) return file;
    }
    parts = await pathBelow(layer, parts);
    if (!parts) return undefined;
  }
  return undefined;
}
