/**
 * Bounded concurrency: at most `n` of the functions given run at once; the rest wait in order.
 * `mapLimit` starts no new work after the first failure, waits for what is running, and rejects
 * with that first failure.
 */
export type Limit = <T>(fn: () => Promise<T>) => Promise<T>;

export const DEFAULT_JOBS = 4;

export function createLimit(n: number): Limit {
  const max = Math.max(1, Math.floor(n));
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

export async function mapLimit<T, R>(items: readonly T[], n: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let nextIndex = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && nextIndex < items.length) {
      const i = nextIndex++;
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
  await Promise.all(Array.from({ length: Math.min(Math.max(1, Math.floor(n)), items.length) }, worker));
  if (failed) throw firstError;
  return results;
}
