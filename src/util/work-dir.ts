/**
 * Temporary work directories: the content store, layers being compressed, unpacked archives.
 * They can hold gigabytes, so they go on every way out: `removeWorkDir` in a finally, and on
 * SIGINT, SIGTERM or SIGHUP, where no finally runs, a synchronous sweep before the process exits
 * with the status a shell reports for the signal (128 + its number).
 */
import { rmSync } from 'node:fs';
import { promises as fs } from 'node:fs';
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
  live.add(dir);
  installHandlers();
  return dir;
}

export async function removeWorkDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  live.delete(dir);
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
