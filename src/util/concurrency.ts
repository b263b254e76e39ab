/**
 * Bounded concurrency: at most `n` of the functions given run at once; the rest wait in order.
 * Results keep the input order.
 */
export type Limit = <T>(fn: () => Promise<T>) => Promise<T>;

/** At least one at a time, whatever `n` is (0, a fraction, NaN). */
function width(n: number): number {
  return n >= 1 ? Math.floor(n) : 1;
}

/** A gate for work that arrives over time (e.g. a sink's putBlob calls): at most `n` running. */
export function createLimit(n: number): Limit {
  const max = width(n);
  let running = 0;
  const queue: Array<() => void> = [];
  const next = (): void => {
    if (running >= max) return;
    const start = queue.shift();
    if (start) {
      running++;
      start();
    }
  };
  return <T>(fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        let p: Promise<T>;
        try {
          p = fn();
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(resolve, reject).finally(() => {
          running--;
          next();
        });
      });
      next();
    });
}

/** A Limit whose tasks not yet started reject instead of running once one failed or cancel() was called. */
export interface FailFastLimit extends Limit {
  cancel(): void;
}

export function createFailFastLimit(n: number, cancelled: () => Error): FailFastLimit {
  const limit = createLimit(n);
  let failed = false;
  const run = <T>(fn: () => Promise<T>): Promise<T> =>
    limit(async () => {
      if (failed) throw cancelled();
      try {
        return await fn();
      } catch (e) {
        failed = true;
        throw e;
      }
    });
  const cancel = (): void => {
    failed = true;
  };
  return Object.assign(run, { cancel });
}

/**
 * Run `fn` over `items` with at most `n` in flight, starting them in `order` (indexes; default
 * the items' order). Results keep the items' order. After the first failure no new work starts;
 * what is running is waited for, and the promise rejects with that first failure.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  n: number,
  fn: (item: T, index: number) => Promise<R>,
  order?: readonly number[],
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let nextIndex = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && nextIndex < items.length) {
      const i = order ? order[nextIndex++]! : nextIndex++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (e) {
        if (!failed) {
          failed = true;
          firstError = e;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width(n), items.length) }, worker));
  if (failed) throw firstError;
  return results;
}
