/**
 * Temporary work directories (the content store, layers being compressed, unpacked archives) and
 * temporary files in a destination (a blob being written). They can hold gigabytes, so they go on
 * every way out: removed in a finally, and on SIGINT, SIGTERM or SIGHUP, where no finally runs, by
 * a synchronous sweep before the process exits with the status a shell reports for the signal
 * (128 + its number).
 */
import { accessSync, constants, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RechunkerError } from '../errors.js';
import { errnoText } from './fs-failure.js';

const live = new Set<string>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let handlersInstalled = false;

/**
 * Where work directories go without --work-dir: $TMPDIR when set, else /var/tmp, as podman
 * does (image_copy_tmp_dir): /tmp is a RAM disk on many distributions, too small for an
 * unpacked OS image. The system's temp directory when /var/tmp is not there.
 */
export function defaultWorkParent(): string {
  if (process.env.TMPDIR) return process.env.TMPDIR;
  try {
    accessSync('/var/tmp', constants.W_OK);
    return '/var/tmp';
  } catch {
    return os.tmpdir();
  }
}

/** A new directory `PARENT/PREFIXxxxxxx` (PARENT: --work-dir, else defaultWorkParent()). */
export async function makeWorkDir(parent: string | undefined, prefix: string): Promise<string> {
  const base = parent ?? defaultWorkParent();
  let dir: string;
  try {
    dir = await fs.mkdtemp(path.join(base, prefix));
  } catch (e) {
    const why = errnoText(e as NodeJS.ErrnoException);
    throw new RechunkerError('IO', `work directory ${base}: cannot create a temporary directory there (${why})`, {
      cause: e,
    });
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
