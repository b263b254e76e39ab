import { RechunkerError } from '../errors.js';
import { displayPath } from './entry.js';

// Paths that need no rewriting: no leading '/' or '.', no '//' or '/.' anywhere (this also
// rules out '..' components), no trailing '/', no NUL. Most real entries take this path.
const NEEDS_WORK = /^[/.]|\/\/|\/\.|\/$|\0/;

/**
 * Normalise a tar entry path (a byte string) the way an unpacker resolves it, refusing anything
 * that could land outside the root. `where` names the archive (and entry) for the message.
 *
 * './a//b/./c/' -> 'a/b/c'; '', '.', './' -> '.' (the root). Absolute paths, '..' components and
 * NUL bytes throw UNSAFE_PATH: even where '..' would stay inside the root ('a/../b'), the
 * unpackers disagree on how to resolve it, so such an archive is never trusted.
 */
export function normalizeTarPath(raw: string, where: string): string {
  if (!NEEDS_WORK.test(raw)) return raw === '' ? '.' : raw;
  if (raw.startsWith('/') || raw.includes('\0')) throw unsafe(raw, where);
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw unsafe(raw, where);
    parts.push(part);
  }
  return parts.length === 0 ? '.' : parts.join('/');
}

function unsafe(raw: string, where: string): RechunkerError {
  return new RechunkerError('UNSAFE_PATH', `unsafe path "${displayPath(raw).replace(/\0/g, '\\0')}" in ${where}`);
}
