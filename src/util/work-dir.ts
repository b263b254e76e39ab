/**
 * Temporary work directories (the content store, layers being compressed, unpacked archives) and
 * temporary files in a destination (a blob being written). They can hold gigabytes, so they go on
 * every way out: removed in a finally, and on SIGINT, SIGTERM or SIGHUP, where no finally runs, by
 * a synchronous sweep before the process exits with the status a shell reports for the signal
 * (128 + its number).
 */
import { promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RechunkerError } from '../errors.js';

const live = new Set<string>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let handlersInstalled = false;

/** A new directory `PARENT/PREFIXxxxxxx` (PARENT: --work-dir, else the system's temp directory). */
export async function makeWorkDir(parent: string | undefined, prefix: string): Promise<string> {
  const base = parent ?? os.tmpdir();
  let dir: string;
  try {
    dir = await fs.mkdtemp(path.join(base, prefix));
  } catch (e) {
    throw new RechunkerError('IO', `work directory ${base}: cannot create a temporary directory there (${(e as Error).message})`, { cause: e });
  }
  removeOnSignal(dir);
  return dir;
}

export async function removeWorkDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  release(dir);
}

/** Remove `file` (or directory) should a signal stop the process before `release(file)`. */
export function removeOnSignal(file: string): void {
  live.add(file);
  installHandlers();
}

export function release(file: string): void {
  live.delete(file);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of SIGNALS) process.once(signal, () => exitOnSignal(signal));
}

function exitOnSignal(signal: NodeJS.Signals): never {
  for (const dir of live) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Exiting anyway: one directory that will not go must not keep the others.
    }
  }
  process.exit(128 + (os.constants.signals[signal] ?? 0));
}
