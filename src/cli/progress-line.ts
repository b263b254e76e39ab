import type { Progress } from '../progress.js';
import { formatBytes } from '../util/format-bytes.js';

const MIN_INTERVAL_MS = 100;

export interface ProgressLineOptions {
  /** Redraw at most this often (default 100 ms). */
  intervalMs?: number;
}

/**
 * The renderer of the progress port: one self-overwriting status line on stderr, only on a
 * terminal, so pipes and CI logs stay clean. Bytes show done, total and the phase's rate.
 * Warnings always go to stderr, terminal or not; notes too, unless quiet.
 */
export function progressLine(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  enabled: boolean,
  opts: ProgressLineOptions = {},
): Progress {
  const live = enabled && stream.isTTY === true;
  const interval = opts.intervalMs ?? MIN_INTERVAL_MS;
  let phase = '';
  let started = Date.now();
  let last = 0;
  let shown = false;
  const draw = (text: string) => {
    const width = (stream.columns ?? 80) - 1;
    stream.write(`\r\x1b[K${text.length > width ? text.slice(0, width) : text}`);
    shown = true;
  };
  const clear = () => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  const bytesLine = (done: number, total: number | undefined) => {
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    const rate = `${formatBytes(Math.round(done / secs))}/s`;
    if (total === undefined || total === 0) return `${phase}: ${formatBytes(done)}  ${rate}`;
    return `${phase}: ${formatBytes(done)} of ${formatBytes(total)} (${Math.floor((100 * done) / total)}%)  ${rate}`;
  };
  return {
    phase(text) {
      phase = text;
      started = Date.now();
      if (live) draw(text);
    },
    advance(done, total, unit = 'items') {
      const now = Date.now();
      const final = total !== undefined && done >= total;
      if (!live || (!final && now - last < interval)) return;
      last = now;
      if (unit === 'items') draw(total === undefined ? `${phase}: ${done}` : `${phase}: ${done}/${total}`);
      else draw(bytesLine(done, total));
    },
    warn(text) {
      clear();
      stream.write(`rechunker: warning: ${text}\n`);
    },
    note(text) {
      if (!enabled) return;
      clear();
      stream.write(`rechunker: ${text}\n`);
    },
    done: clear,
  };
}
