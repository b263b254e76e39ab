/**
 * Mutual exclusion between processes on one machine for a read-modify-write of a file: an OCI
 * layout's index.json, which every tag update rewrites, so two runs writing different tags into
 * one layout would otherwise each drop the other's tag. The lock is `FILE.lock`, created
 * exclusively and holding its owner's pid, removed on a signal too; a lock whose owner is gone (a
 * run killed outright) is taken over.
 */
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RechunkerError } from '../errors.js';
import { release, removeOnSignal } from './work-dir.js';

const TIMEOUT_MS = 60_000;
/** A lock file still empty after this long was left by a writer that died between create and write. */
const EMPTY_GRACE_MS = 10_000;

export async function withFileLock<T>(file: string, fn: () => Promise<T>, timeoutMs = TIMEOUT_MS): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (let wait = 5; ; wait = Math.min(wait * 2, 250)) {
    try {
      await fs.writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await isStale(lock)) {
      await fs.rm(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new RechunkerError(
        'IO',
        `${file}: another process has held ${lock} for ${Math.round(timeoutMs / 1000)} s; remove it if no rechunker is running`,
      );
    }
    await sleep(wait);
  }
  removeOnSignal(lock);
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { force: true });
    release(lock);
  }
}

async function isStale(lock: string): Promise<boolean> {
  let text: string;
  let age: number;
  try {
    text = await fs.readFile(lock, 'utf8');
    age = Date.now() - (await fs.stat(lock)).mtimeMs;
  } catch {
    return false; // released meanwhile: the next attempt will tell
  }
  const pid = Number.parseInt(text, 10);
  if (!(pid > 0)) return age > EMPTY_GRACE_MS;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
