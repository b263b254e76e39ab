import type { Hook } from '@oclif/core';

/**
 * oclif's command_not_found hook: an unknown command is a usage error in the one-line format of
 * every other error (or --json's object), exit 2, with the closest command when one is near.
 */
const hook: Hook<'command_not_found'> = async (opts) => {
  const known = [...new Set([...opts.config.commandIDs, 'help'])].sort();
  // With spaces as the topic separator oclif joins the words after the command into the id.
  const typed = opts.id.split(':')[0]!;
  const guess = closest(typed, known);
  const bin = opts.config.bin;
  const hint = guess ? `did you mean \`${bin} ${guess}\`? ` : '';
  const message = `unknown command "${typed}"; ${hint}(commands: ${known.join(', ')}; see ${bin} help)`;
  if ((opts.argv ?? []).includes('--json'))
    process.stdout.write(JSON.stringify({ error: { code: 'USAGE', message } }) + '\n');
  else process.stderr.write(`${bin}: error [USAGE]: ${message}\n`);
  process.exitCode = 2;
  return undefined;
};

export default hook;

/** The known name nearest to the typed one, if within 2 edits (or a third of its length). */
export function closest(typed: string, known: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(typed.length / 3));
  const ranked = known
    .map((name) => ({ name, d: editDistance(typed.toLowerCase(), name.toLowerCase()) }))
    .filter((c) => c.d <= limit)
    .sort((x, y) => x.d - y.d || (x.name < y.name ? -1 : 1));
  return ranked[0]?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
