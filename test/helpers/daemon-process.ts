// A private daemon a test starts (containerd, dockerd): run under a small shell guard that
// terminates it when our end of its stdin closes, so it goes away even when the test process is
// killed without running exit hooks; its output goes to a log file that a failure can quote.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { has, run } from './tools.js';

const GUARD =
  'exec 3<&0; "$0" "$@" 3<&- </dev/null & pid=$!; echo "$pid"; ' +
  '(read _x <&3; kill -TERM "$pid" 2>/dev/null) & wait "$pid"';

/**
 * Why a private `daemon` (driven by `client`, from Debian package `pkg`) cannot run here, or
 * undefined when it can: it needs root, both binaries, and unshare for the mounts it is checked by.
 */
export async function daemonSkipReason(daemon: string, client: string, pkg: string): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return `${daemon} needs root`;
  if (!(await has(daemon)) || !(await has(client))) return `${daemon}/${client} not installed (apt-get install ${pkg})`;
  if (!(await has('unshare'))) return 'unshare (util-linux) is not installed';
  return undefined;
}

export interface Daemon {
  readonly log: string;
  /** The last lines of the daemon's log, for error messages. */
  tail(lines?: number): string;
  /** SIGTERM (SIGKILL after `graceMs`), then wait for the daemon to exit. */
  stop(graceMs?: number): Promise<void>;
  exited(): boolean;
}

/** Starts `cmd args` logging to `log`; resolves once `ready()` holds, or throws with the log's tail. */
export async function startDaemon(
  cmd: string,
  args: readonly string[],
  log: string,
  ready: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<Daemon> {
  const fd = openSync(log, 'a');
  const child: ChildProcess = spawn('/bin/sh', ['-c', GUARD, cmd, ...args], { stdio: ['pipe', 'pipe', fd] });
  closeSync(fd);
  let pid = 0;
  child.stdout!.on('data', (b: Buffer) => (pid ||= Number.parseInt(b.toString('utf8'), 10) || 0));
  child.stdin!.on('error', () => {});
  const daemon: Daemon = {
    log,
    tail: (lines = 15) => {
      try {
        return readFileSync(log, 'utf8').trim().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: (graceMs = 15_000) => {
      if (daemon.exited()) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          if (pid > 0) process.kill(pid, 'SIGKILL');
        }, graceMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin!.end();
      });
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !daemon.exited()) {
    if (await ready()) return daemon;
    await sleep(200);
  }
  const why = daemon.exited() ? 'exited' : `not ready after ${timeoutMs / 1000} s`;
  await daemon.stop(2000);
  throw new Error(`${cmd} ${why}: ${daemon.tail()}`);
}

/** Mount points at or below dir, deepest first (mountinfo's octal escapes undone). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts whatever a daemon left mounted under dir, then removes dir; throws if a mount stays. */
export async function removeDaemonDir(dir: string): Promise<void> {
  for (const mnt of await mountsUnder(dir)) await run('umount', ['-l', mnt]);
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new Error(`still mounted, ${dir} kept: ${left.join(', ')}`);
  await rm(dir, { recursive: true, force: true });
}
