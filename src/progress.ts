/** How the engine reports long work; the CLI decides whether and how to show it. */
export interface Progress {
  /** A new phase, e.g. "reading layer 2/4". */
  phase(text: string): void;
  /** Units done in the current phase, out of total when known; bytes are shown as sizes. */
  advance(done: number, total?: number, unit?: 'bytes' | 'items'): void;
  /** Something the user should act on or know was lost. */
  warn(text: string): void;
  /** What the run decided, for a log (how the prior plan was used). */
  note(text: string): void;
  done(): void;
}

export const silentProgress: Progress = { phase() {}, advance() {}, warn() {}, note() {}, done() {} };
