/**
 * How long work reports itself: the one progress port. Stages call it; the CLI decides whether
 * and how to show it (src/cli/progress-line.ts). Nothing below the CLI draws on a terminal.
 */
export interface Progress {
  /** A new phase, e.g. "reading layer 2/4". */
  phase(text: string): void;
  /** Units done in the current phase, out of total when known; bytes are shown as sizes and a rate. */
  advance(done: number, total?: number, unit?: 'bytes' | 'items'): void;
  /** Something the user should act on or know was lost. */
  warn(text: string): void;
  /** What the run decided, for a log (how the prior plan was used). */
  note(text: string): void;
  done(): void;
}

export const silentProgress: Progress = { phase() {}, advance() {}, warn() {}, note() {}, done() {} };

/** One transfer being counted by a ByteTally. */
export interface Transfer {
  add(bytes: number): void;
  done(): void;
}

/**
 * Several transfers at once (blobs pushed or pulled in parallel) reported as one byte count:
 * the first transfer of a batch starts the phase `label`, each byte advances it, against the sum
 * of the sizes started so far.
 */
export class ByteTally {
  private active = 0;
  private bytes = 0;
  private total = 0;

  constructor(
    private readonly progress: Progress,
    private readonly label: string,
  ) {}

  /** Count one transfer of `size` bytes (0 if unknown). */
  start(size: number): Transfer {
    if (this.active === 0) {
      this.bytes = 0;
      this.total = 0;
      this.progress.phase(this.label);
    }
    this.active++;
    this.total += size;
    let finished = false;
    return {
      add: (n) => {
        this.bytes += n;
        this.progress.advance(this.bytes, this.total, 'bytes');
      },
      done: () => {
        if (finished) return;
        finished = true;
        this.active--;
      },
    };
  }
}
