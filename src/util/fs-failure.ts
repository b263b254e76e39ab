import { RechunkerError } from '../errors.js';

/**
 * A filesystem error as one line for the user: where (the reference or the work directory, never
 * a temporary file's name) and the real errno with its meaning. ENOSPC says which place is full,
 * since a run writes to two (its work directory and the destination).
 */
export function fsFailure(err: unknown, where: string, place: 'destination' | 'work directory'): unknown {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof RechunkerError || typeof e?.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return err;
  const message = `${where}: ${errnoText(e)}${shownPath(e)}${hint(e.code, place)}`;
  return new RechunkerError(e.code === 'ENOENT' ? 'NOT_FOUND' : 'IO', message, { cause: err });
}

/** The path the call failed on, unless it is one of our temporary names (meaningless to the user). */
function shownPath(e: NodeJS.ErrnoException): string {
  return e.path && !e.path.includes('.tmp-') ? ` (${e.path})` : '';
}

/** `EROFS: read-only file system`: Node's message without the call and the path it names. */
export function errnoText(e: NodeJS.ErrnoException): string {
  const text = e.message.replace(/,\s+\w+(?:\s+'[\s\S]*)?$/, '').trim();
  return text.startsWith(`${e.code}:`) ? text : `${e.code}: ${text}`;
}

function hint(code: string, place: string): string {
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return place === 'destination'
      ? ' (the destination is full)'
      : ' (the work directory is full; choose another with --work-dir)';
  }
  if (code === 'EROFS') return ` (the ${place} is on a read-only filesystem)`;
  if (code === 'EACCES' || code === 'EPERM') return ` (no permission to write the ${place})`;
  return '';
}
