import { setTimeout as sleep } from 'node:timers/promises';

/**
 * When and how long to wait before trying a registry request again: 408, 429 and 5xx answers
 * (except 501/505, which will not change), and connection failures. Exponential backoff with
 * full jitter; `Retry-After` (seconds or an HTTP date) honoured up to `maxDelayMs`.
 */
export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** First backoff step (default 500 ms); doubles each time. */
  baseDelayMs?: number;
  /** Cap on one wait, Retry-After included (default 10 s). */
  maxDelayMs?: number;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 };

export function retryPolicy(opts: RetryOptions | undefined): RetryPolicy {
  return {
    attempts: Math.max(1, Math.floor(opts?.attempts ?? DEFAULT_RETRY.attempts)),
    baseDelayMs: Math.max(0, opts?.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs),
    maxDelayMs: Math.max(0, opts?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs),
  };
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
  'RECHUNKER_TIMEOUT',
]);

/** Connection-level failures worth another attempt (not TLS verification or DNS "no such host"). */
export function isRetryableError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e) return false;
  if (typeof e.code === 'string' && RETRYABLE_CODES.has(e.code)) return true;
  return /socket hang up|aborted|premature close/i.test(e.message ?? '');
}

/** `Retry-After: 3` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`, as milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const date = Date.parse(t);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Wait before attempt number `attempt + 1` (attempt counts from 1). Retry-After can lengthen the
 * wait, never shorten it: `Retry-After: 0` from an overloaded registry must not turn every retry
 * into an immediate one.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  // "Equal jitter": at least half the step, so retries do spread out but never hammer.
  const backoff = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  return Math.min(policy.maxDelayMs, Math.max(backoff, retryAfterMs ?? 0));
}

export function wait(ms: number): Promise<void> {
  return ms > 0 ? sleep(ms) : Promise.resolve();
}
