import { spawn } from 'node:child_process';

export interface Measured {
  wallSeconds: number;
  peakRssBytes: number;
  stdout: string;
  stderr: string;
}

/** Run a command under GNU time: wall clock and peak resident set size of the whole process tree's largest member. */
export function measure(
  cmd: string,
  args: string[],
  opts: { stdoutFile?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const shell = opts.stdoutFile ? ['-c', `exec "$@" > ${JSON.stringify(opts.stdoutFile)}`, 'sh', cmd, ...args] : null;
    const timeArgs = ['-f', '@@TIME %e %M', ...(shell ? ['sh', ...shell] : [cmd, ...args])];
    const child = spawn('/usr/bin/time', timeArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /@@TIME ([\d.]+) (\d+)/.exec(stderr);
      if (code !== 0 || !m) {
        reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr.slice(-2000)}`));
        return;
      }
      resolve({
        wallSeconds: Number(m[1]),
        peakRssBytes: Number(m[2]) * 1024,
        stdout,
        stderr: stderr.replace(/@@TIME.*\n?/, ''),
      });
    });
  });
}
