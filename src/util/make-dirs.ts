import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p` one component at a time. Node's recursive mkdir never returns under /proc (mkdir
 * there says ENOENT for a parent that exists, so it climbs and retries forever) and reports a
 * read-only filesystem as ENOENT; here the first component that cannot be made fails with its
 * own errno. Returns the topmost directory this call created, so a failed run can remove it.
 */
export async function makeDirs(dir: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let cur = path.resolve(dir); ; ) {
    try {
      const st = await fs.stat(cur);
      if (!st.isDirectory()) throw errno('ENOTDIR', 'not a directory', cur);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(cur);
      const up = path.dirname(cur);
      if (up === cur) break;
      cur = up;
    }
  }
  let top: string | undefined;
  for (const d of missing.reverse()) {
    try {
      await fs.mkdir(d);
      top ??= d;
    } catch (e) {
      // Another writer made it meanwhile: theirs, not ours to remove.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return top;
}

function errno(code: string, text: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${text}, mkdir '${file}'`), { code, syscall: 'mkdir', path: file });
}
