import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createLimit, mapLimit } from '../../src/util/concurrency.js';

describe('bounded concurrency', () => {
  it('never runs more than n at once and keeps results in order', async () => {
    let running = 0;
    let peak = 0;
    const limit = createLimit(3);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        limit(async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(5 + (i % 3) * 3);
          running--;
          return i * 2;
        }),
      ),
    );
    assert.equal(peak, 3);
    assert.deepEqual(
      results,
      Array.from({ length: 12 }, (_, i) => i * 2),
    );
  });

  it('mapLimit stops starting work after a failure and rejects with it', async () => {
    const started: number[] = [];
    await assert.rejects(
      mapLimit([0, 1, 2, 3, 4, 5, 6, 7], 2, async (i) => {
        started.push(i);
        await sleep(5);
        if (i === 1) throw new Error('boom 1');
        return i;
      }),
      /boom 1/,
    );
    assert.ok(started.length <= 4, `started ${started.join(',')}`);
    assert.deepEqual(await mapLimit([3, 1, 2], 8, async (x) => x * 10), [30, 10, 20]);
  });

  it("mapLimit starts work in the order given and returns results in the items' order", async () => {
    const started: string[] = [];
    const results = await mapLimit(
      ['a', 'b', 'c', 'd'],
      1,
      async (x) => {
        started.push(x);
        return x.toUpperCase();
      },
      [2, 0, 3, 1],
    );
    assert.deepEqual(started, ['c', 'a', 'd', 'b']);
    assert.deepEqual(results, ['A', 'B', 'C', 'D']);
  });

  it('mapLimit rejects with the failure that came first in time, not in input order', async () => {
    await assert.rejects(
      mapLimit([0, 1], 2, async (i) => {
        await sleep(i === 0 ? 30 : 1);
        throw new Error(`boom ${i}`);
      }),
      /boom 1/,
    );
  });

  it('runs one at a time when given no usable width', async () => {
    for (const n of [0, 0.5, -3, Number.NaN]) {
      let running = 0;
      let peak = 0;
      const work = async (x: number): Promise<number> => {
        running++;
        peak = Math.max(peak, running);
        await sleep(1);
        running--;
        return x + 1;
      };
      assert.deepEqual(await mapLimit([1, 2, 3], n, work), [2, 3, 4], `mapLimit ${n}`);
      const limit = createLimit(n);
      assert.deepEqual(await Promise.all([1, 2, 3].map((x) => limit(() => work(x)))), [2, 3, 4], `createLimit ${n}`);
      assert.equal(peak, 1, `width ${n}`);
    }
    assert.deepEqual(await mapLimit([], 4, async () => 1), []);
  });
});
