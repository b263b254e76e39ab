import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { progressLine } from '../../src/cli/progress-line.js';
import { ByteTally } from '../../src/progress.js';
import { formatBytes } from '../../src/util/format-bytes.js';

function fakeStderr(isTTY: boolean): {
  stream: PassThrough & { isTTY?: boolean; columns?: number };
  text: () => string;
} {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('progress', () => {
  it('draws bytes, total and rate on a terminal, throttled', () => {
    const { stream, text } = fakeStderr(true);
    const p = progressLine(stream, true, { intervalMs: 1_000_000 });
    const t = new ByteTally(p, 'pushing to reg').start(3 * 1000 * 1000);
    for (let i = 0; i < 1000; i++) t.add(3 * 1000);
    t.done();
    p.done();
    const out = text();
    assert.match(out, /pushing to reg: 3\.0 MB of 3\.0 MB \(100%\) {2}[\d.]+ (B|kB|MB|GB)\/s/);
    // The phase, the first byte count and the final one: the rest were throttled (then one clear).
    assert.equal(out.split('\r').length - 1, 4);
  });

  it('sums concurrent transfers into one count against the sum of their sizes', () => {
    const seen: Array<[number, number | undefined]> = [];
    const phases: string[] = [];
    const port = {
      phase: (t: string) => phases.push(t),
      advance: (d: number, t?: number) => seen.push([d, t]),
      warn() {},
      note() {},
      done() {},
    };
    const tally = new ByteTally(port, 'pulling from reg');
    const a = tally.start(100);
    const b = tally.start(50);
    a.add(60);
    b.add(50);
    b.done();
    a.add(40);
    a.done();
    assert.deepEqual(phases, ['pulling from reg']);
    assert.deepEqual(seen, [
      [60, 150],
      [110, 150],
      [150, 150],
    ]);
    // A new batch starts from zero.
    tally.start(10).add(10);
    assert.deepEqual(seen.at(-1), [10, 10]);
  });

  it('is silent when stderr is not a terminal, or with quiet', () => {
    for (const [tty, enabled] of [
      [false, true],
      [true, false],
    ] as const) {
      const { stream, text } = fakeStderr(tty);
      const p = progressLine(stream, enabled);
      const t = new ByteTally(p, 'x').start(10);
      t.add(10);
      t.done();
      p.done();
      assert.equal(text(), '');
    }
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1500), '1.5 kB');
  });
});
