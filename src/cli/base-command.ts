import { Command, Flags } from '@oclif/core';
import { RechunkerError } from '../errors.js';
import type { Progress } from '../progress.js';
import { errnoText } from '../util/fs-failure.js';
import { defaultWorkParent } from '../util/work-dir.js';
import { closest } from './command-not-found.js';
import { rewriteGoBooleans } from './flags.js';
import { progressLine } from './progress-line.js';

/**
 * What every command shares: --json and --quiet, progress on stderr, and errors as one line
 * (`rechunker: error [CODE]: what, where`) with a stable exit status instead of a stack trace.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    quiet: Flags.boolean({ char: 'q', description: 'no progress output on stderr', default: false }),
  };

  /**
   * The exit status for a failure with this usual one: `verify` answers 2 for every kind of
   * trouble, since 1 means "the images differ" there (as with diff and cmp).
   */
  protected troubleExit(usual: number): number {
    return usual;
  }

  override async init(): Promise<void> {
    this.argv = rewriteGoBooleans(this.argv);
    await super.init();
  }

  protected progress(quiet: boolean): Progress {
    return progressLine(process.stderr, !quiet && !this.jsonEnabled());
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof RechunkerError) return this.fail(err.code, err.message, err.exitCode);
    // Flag and argument parsing errors: one line as every other error, not oclif's usage screen.
    if (err.oclif?.exit === 2 && (err as { code?: string }).code !== 'EEXIT') {
      const what = err.message
        .split('\n')
        .filter((l) => !/see more help/i.test(l))
        .map((l) => l.trim())
        .filter(Boolean)
        .join(' ');
      const see = `(${this.flagGuess(what)}see ${this.config.bin} ${this.id ?? ''} --help)`;
      return this.fail('USAGE', `${what} ${see}`.replace(/ {2,}/g, ' '), 2);
    }
    // oclif's own exits keep their handling.
    if (err.oclif !== undefined) return super.catch(err);
    // A filesystem call that failed where no stage added context (destination, work directory):
    // the system's message names the call and the path, which is what the user needs.
    const sys = err as NodeJS.ErrnoException;
    if (typeof sys.code === 'string' && typeof sys.syscall === 'string')
      return this.fail('IO', systemError(sys, this.workDir()), 1);
    if (process.env.RECHUNKER_DEBUG) process.stderr.write(`${err.stack}\n`);
    return this.fail('INTERNAL', `${err.message} (this is a bug; RECHUNKER_DEBUG=1 shows where)`, 70);
  }

  /** `did you mean --tls-verify? ` for oclif's "Nonexistent flag: --tls-verfy", else ''. */
  private flagGuess(message: string): string {
    const typed = /Nonexistent flags?: --([\w-]+)/.exec(message)?.[1];
    const flags = (this.constructor as { flags?: Record<string, unknown> }).flags ?? {};
    const guess = typed ? closest(typed, [...Object.keys(flags), 'json', 'quiet']) : undefined;
    return guess ? `did you mean --${guess}? ` : '';
  }

  /** The work directory this run used: --work-dir as given, else the default. */
  private workDir(): string {
    const i = this.argv.indexOf('--work-dir');
    const eq = this.argv.find((a) => a.startsWith('--work-dir='));
    return (i >= 0 ? this.argv[i + 1] : eq?.slice('--work-dir='.length)) ?? defaultWorkParent();
  }

  private fail(code: string, message: string, exitCode: number): never {
    const line = message.replace(/\s*\n\s*/g, ' ');
    exitCode = exitCode === 0 ? 0 : this.troubleExit(exitCode);
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify({ error: { code, message: line } }) + '\n');
    else process.stderr.write(`rechunker: error [${code}]: ${line}\n`);
    return this.exit(exitCode);
  }
}

/**
 * A filesystem error no stage put in context. Every destination write is named by its sink, so
 * what is left is the work directory (the content store, layers being compressed): ENOSPC says
 * so, and a temporary file's name is never shown, only the directory it was in.
 */
function systemError(e: NodeJS.ErrnoException, workDir: string): string {
  const where = e.path ? ` (${e.path.replace(/\/(?:\.tmp-|rechunker-)[^/]*(?:\/.*)?$/, '')})` : '';
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') {
    return `work directory ${workDir}: ${errnoText(e)} (the work directory is full; choose another with --work-dir)`;
  }
  return `${errnoText(e)}${where}`;
}
