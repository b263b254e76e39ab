import type { Progress } from '../progress.js';
import { formatBytes } from './format.js';

const MIN_INTERVAL_MS = 100;

/**
 * One self-overwriting status line on stderr, only on a terminal: pipes and CI logs stay clean.
 * Warnings always go to stderr, terminal or not; notes too, unless quiet.
 */
export function progressLine(stream: NodeJS.WriteStream, enabled: boolean): Progress {
  const live = enabled && stream.isTTY === true;
  let phase = '';
  let last = 0;
  let shown = false;
  const draw = (text: string) => {
    stream.write(`\r\x1b[K${text}`);
    shown = true;
  };
  const clear = () => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  return {
    phase(text) {
      phase = text;
      if (live) draw(text);
    },
    advance(done, total, unit = 'items') {
      const now = Date.now();
      if (!live || now - last < MIN_INTERVAL_MS) return;
      last = now;
      if (unit === 'items') draw(total === undefined ? `${phase}: ${done}` : `${phase}: ${done}/${total}`);
      else if (total === undefined || total === 0) draw(`${phase}: ${formatBytes(done)}`);
      else draw(`${phase}: ${formatBytes(done)} of ${formatBytes(total)} (${Math.floor((100 * done) / total)}%)`);
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
