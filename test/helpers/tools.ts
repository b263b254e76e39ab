// Thin access to the independent programs tests use as oracles (skopeo, umoci, getfattr, ...).
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import * as path from 'node:path';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** how stdout and stderr are decoded; 'latin1' keeps raw bytes one char each */
  encoding?: BufferEncoding;
  timeoutMs?: number;
}

export interface RunResult {
  /** exit code; -1 when the program could not be started or was killed by a signal */
  code: number;
  stdout: string;
  stderr: string;
}

// Tree listings of an OS image run to tens of megabytes.
const MAX_BUFFER = 1 << 30;

/** Is `cmd` an executable file on PATH (or a path to one)? */
export async function has(cmd: string): Promise<boolean> {
  const candidates = cmd.includes('/')
    ? [cmd]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, cmd));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return true;
    } catch {
      // try the next directory
    }
  }
  return false;
}

/** Runs a program to completion; never throws, failure is in `code` and `stderr`. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        cwd: opts.cwd,
        env: opts.env,
        encoding: opts.encoding ?? 'utf8',
        maxBuffer: MAX_BUFFER,
        timeout: opts.timeoutMs ?? 0,
      },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) {
          const c = (err as { code?: unknown }).code;
          code = typeof c === 'number' ? c : -1;
        }
        const extra = err && code === -1 ? `${err.message}\n` : '';
        resolve({ code, stdout: String(stdout), stderr: extra + String(stderr) });
      },
    );
  });
}

/** Like run, but throws with the program's stderr when it exits non-zero. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${res.code}): ${res.stderr.trim()}`);
  }
  return res;
}

/** Parsed `skopeo inspect REF` (REF in skopeo syntax, e.g. `oci:/path:tag`). */
export async function skopeoInspect(ref: string): Promise<Record<string, unknown>> {
  const res = await runOk('skopeo', ['inspect', ref]);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

/**
 * `umoci unpack --image DIR:TAG DEST` as root (ownership and xattrs kept); DEST must not exist
 * yet or be empty. Returns the bundle's rootfs.
 */
export async function umociUnpack(layoutDir: string, tag: string, destDir: string): Promise<string> {
  await runOk('umoci', ['unpack', '--image', `${layoutDir}:${tag}`, destDir]);
  return path.join(destDir, 'rootfs');
}
