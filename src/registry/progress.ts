/**
 * One status line on stderr for long transfers: bytes so far, of how many, and the rate.
 * Silent unless the stream is a terminal and not `--quiet`; redrawn at most every `intervalMs`.
 */
export interface ProgressOptions {
  quiet?: boolean;
  /** Default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  intervalMs?: number;
}

export interface ProgressTask {
  add(bytes: number): void;
  done(): void;
}

const NOOP_TASK: ProgressTask = { add() {}, done() {} };

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

export class Progress {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly enabled: boolean;
  private readonly intervalMs: number;
  private active = 0;
  private bytes = 0;
  private total = 0;
  private started = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly label: string, opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.enabled = !opts.quiet && this.stream.isTTY === true;
    this.intervalMs = opts.intervalMs ?? 250;
  }

  /** Track one transfer of `size` bytes (0 if unknown). */
  start(size: number): ProgressTask {
    if (!this.enabled) return NOOP_TASK;
    if (this.active === 0) {
      this.started = Date.now();
      this.bytes = 0;
      this.total = 0;
    }
    this.active++;
    this.total += size;
    let finished = false;
    return {
      add: (n: number) => {
        this.bytes += n;
        this.draw(false);
      },
      done: () => {
        if (finished) return;
        finished = true;
        this.active--;
        // The line stays (not newline-terminated) until end(): the next transfer redraws it.
        this.draw(this.active === 0);
      },
    };
  }

  private draw(final: boolean): void {
    const now = Date.now();
    if (!final && now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const rate = `${formatBytes(Math.round(this.bytes / secs))}/s`;
    const of = this.total > 0 ? ` / ${formatBytes(this.total)}` : '';
    let line = `${this.label}: ${formatBytes(this.bytes)}${of}  ${rate}`;
    const width = (this.stream.columns ?? 80) - 1;
    if (line.length > width) line = line.slice(0, width);
    this.stream.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  /** Finish the line if one is showing. */
  end(): void {
    if (this.enabled && this.drawn) {
      this.stream.write('\n');
      this.drawn = false;
    }
  }
}
