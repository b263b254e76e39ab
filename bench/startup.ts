/**
 * npm run bench:startup: how long the commands that do no work take to answer (`--version`,
 * `--help`, `rechunk --help`), beside `node -e 0` (node's own start) and `skopeo --version` (a Go
 * binary), all in one run: RUNS rounds, each round running every command once in turn, so that
 * the machine's load falls on all of them alike. Prints median and min-max per command.
 * NODE_EXTRA_CA_CERTS is left out of the children's environment: node reads that file at start,
 * which users rarely set.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mdRow } from './markdown.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'run.js');
const RUNS = Number(process.env.RUNS ?? 20);

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const commands: [string, string, string[]][] = [
  ['`node -e 0`', process.execPath, ['-e', '0']],
  ['`skopeo --version`', 'skopeo', ['--version']],
  ['`node bin/run.js --version`', process.execPath, [cli, '--version']],
  ['`node bin/run.js --help`', process.execPath, [cli, '--help']],
  ['`node bin/run.js rechunk --help`', process.execPath, [cli, 'rechunk', '--help']],
  ['`bin/run.js --version` (its shebang, as installed)', cli, ['--version']],
];

function once(cmd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const times = commands.map(() => [] as number[]);
for (const [, cmd, args] of commands) once(cmd, args); // warm the page cache
for (let r = 0; r < RUNS; r++) for (const [i, [, cmd, args]] of commands.entries()) times[i]!.push(once(cmd, args));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const day = new Date().toISOString().slice(0, 10);
console.log(`# start-up, ${RUNS} rounds (${os.cpus().length} cores, node ${process.version}, ${day})\n`);
console.log('| command | median | min - max |');
console.log('|---|---|---|');
for (const [i, [label]] of commands.entries()) {
  const t = times[i]!;
  console.log(
    mdRow([label, `${median(t).toFixed(0)} ms`, `${Math.min(...t).toFixed(0)} - ${Math.max(...t).toFixed(0)} ms`]),
  );
}
