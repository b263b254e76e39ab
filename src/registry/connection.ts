import type { Readable } from 'node:stream';
import { RechunkerError, withContext } from '../errors.js';
import { AuthManager } from './auth.js';
import { lookupCredentials, type CredentialOptions, type RegistryCredentials } from './credentials.js';
import { discard, HttpTransport, type HttpResponse } from './http.js';
import { readCertDir } from './cert-dir.js';
import { apiHost, isLoopback } from './docker-reference.js';
import {
  backoffDelay,
  isRetryableError,
  isRetryableStatus,
  parseRetryAfter,
  retryPolicy,
  wait,
  type RetryOptions,
  type RetryPolicy,
} from './retry.js';

/**
 * The request layer for one registry: which scheme it speaks, who we are to it, and how a request
 * is retried.
 *
 * Scheme: https, always, unless the host is loopback (localhost, 127/8, ::1) or `tlsVerify` is
 * false; then https is tried first and plain http is the fallback when the TLS handshake fails,
 * as Docker does for its default insecure registries and skopeo does with --tls-verify=false.
 * `tlsVerify: false` also accepts any certificate.
 *
 * Each request carries `Authorization` only when it goes to the registry's own origin.
 */
export interface ConnectionOptions extends CredentialOptions {
  /** Verify TLS certificates and require https (default true; loopback hosts may still use http). */
  tlsVerify?: boolean;
  /** CAs and a client certificate to use (see cert-dir.ts). */
  certDir?: string;
  retry?: RetryOptions;
  userAgent?: string;
  /** Socket idle timeout (default 60 s). */
  timeoutMs?: number;
  /** Skip probing and use this scheme. */
  scheme?: 'https' | 'http';
  /** Clock for token expiry (tests). */
  now?: () => number;
}

export interface SendSpec {
  method: string;
  /** A path under the registry (`/v2/...`) or an absolute URL (an upload `Location`). */
  target: string | URL;
  /** Repository, for credentials lookup. */
  repo: string;
  scopes: string[];
  headers?: Record<string, string>;
  /** A buffer, or a function giving a fresh stream for each attempt. */
  body?: Buffer | (() => Promise<Readable>);
  /** For messages: `host/repo: manifest latest`. */
  what: string;
  /** Attempts for this request (default: the retry policy's). 1 = the caller retries. */
  attempts?: number;
}

/** A failure the caller may retry: connection trouble or a 408/429/5xx answer. */
export class TransientError extends Error {
  readonly status?: number;
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.status !== undefined) this.status = options.status;
  }
}

/** A RechunkerError named by the request it failed (`host/repo: blob …`); anything else as it is. */
function inContext(err: unknown, what: string): unknown {
  return err instanceof RechunkerError ? withContext(err, what) : err;
}

export const USER_AGENT = 'rechunker/0.1 (+https://github.com/opencontainers/distribution-spec)';

export class RegistryConnection {
  readonly registry: string;
  readonly tlsVerify: boolean;
  readonly retry: RetryPolicy;
  readonly transport: HttpTransport;
  readonly auth: AuthManager;
  private basePromise?: Promise<URL>;
  private readonly creds = new Map<string, Promise<RegistryCredentials | undefined>>();

  constructor(
    registry: string,
    private readonly opts: ConnectionOptions = {},
  ) {
    this.registry = registry;
    this.tlsVerify = opts.tlsVerify ?? true;
    this.retry = retryPolicy(opts.retry);
    this.transport = new HttpTransport({
      tlsVerify: this.tlsVerify,
      userAgent: opts.userAgent ?? USER_AGENT,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.certDir !== undefined ? { certs: readCertDir(opts.certDir) } : {}),
    });
    this.auth = new AuthManager({
      registry,
      transport: this.transport,
      credentials: (repo) => this.credentials(repo),
      tlsVerify: this.tlsVerify,
      retry: this.retry,
      ...(opts.now ? { now: opts.now } : {}),
    });
  }

  credentials(repo: string | undefined): Promise<RegistryCredentials | undefined> {
    const key = repo ?? '';
    let p = this.creds.get(key);
    if (!p) {
      p = lookupCredentials(this.registry, repo, this.opts);
      this.creds.set(key, p);
    }
    return p;
  }

  /** `https://host/` or `http://host/`, found once by pinging `/v2/`. */
  base(): Promise<URL> {
    if (!this.basePromise) {
      this.basePromise = this.ping();
      this.basePromise.catch(() => (this.basePromise = undefined));
    }
    return this.basePromise;
  }

  private schemes(): Array<'https' | 'http'> {
    if (this.opts.scheme) return [this.opts.scheme];
    return !this.tlsVerify || isLoopback(this.registry) ? ['https', 'http'] : ['https'];
  }

  private async ping(): Promise<URL> {
    const host = apiHost(this.registry);
    const schemes = this.schemes();
    let httpsError: unknown;
    let lastError: unknown;
    let notRegistry: string | undefined;
    // The last failure was an HTTP answer (429, 5xx), not a failure to connect.
    let answered: string | undefined;
    let made = 0;
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      made = attempt;
      let transient = false;
      let retryAfter: number | undefined;
      notRegistry = undefined;
      for (const scheme of schemes) {
        const base = new URL(`${scheme}://${host}/`);
        let res: HttpResponse;
        try {
          res = await this.transport.request({ method: 'GET', url: new URL('/v2/', base) });
        } catch (err) {
          if (scheme === 'https') httpsError = err;
          lastError = err;
          answered = undefined;
          if (isRetryableError(err)) transient = true;
          continue;
        }
        discard(res.body);
        if (res.status === 200 || res.status === 401) {
          if (res.status === 401) this.auth.setChallenge(res.headers['www-authenticate']);
          return base;
        }
        const text = `${base.origin}/v2/ answered HTTP ${res.status} ${res.statusText}`.trim();
        lastError = new Error(text);
        answered = text;
        if (isRetryableStatus(res.status)) {
          transient = true;
          retryAfter = parseRetryAfter(res.headers['retry-after']);
        } else {
          notRegistry = text;
        }
      }
      if (!transient) break;
      if (attempt < this.retry.attempts) await wait(backoffDelay(attempt, this.retry, retryAfter));
    }
    // An https failure explains a plain-http fallback that reached something other than a registry
    // (an https-only server answers plain http with 400).
    const report = notRegistry !== undefined && httpsError !== undefined ? httpsError : lastError;
    const msg = (report as Error | undefined)?.message ?? 'unknown error';
    const tries = made > 1 ? ` (after ${made} attempts)` : '';
    if (report === lastError && notRegistry !== undefined) {
      throw new RechunkerError('REGISTRY', `${notRegistry}; is ${this.registry} a registry?`);
    }
    if (report === lastError && answered !== undefined)
      throw new RechunkerError('REGISTRY', `registry ${this.registry}: ${answered}${tries}`);
    const tlsHint =
      /certificate|self.signed|SSL|TLS|EPROTO/i.test(
        `${msg} ${(report as NodeJS.ErrnoException | undefined)?.code ?? ''}`,
      ) && this.tlsVerify
        ? ' (for a registry with a self-signed certificate or plain http, use --tls-verify=false)'
        : '';
    throw new RechunkerError('NETWORK', `cannot connect to registry ${this.registry}: ${msg}${tries}${tlsHint}`, {
      cause: report,
    });
  }

  /**
   * Send one request: auth attached (and renewed once on 401), retried on connection failures
   * and 408/429/5xx with backoff and Retry-After. Resolves with the last response whatever its
   * status; rejects with NETWORK when the connection kept failing, or TransientError when
   * `attempts` is 1 and the one attempt failed in a retryable way.
   */
  async send(spec: SendSpec): Promise<HttpResponse> {
    let base: URL;
    try {
      base = await this.base();
    } catch (err) {
      throw inContext(err, spec.what);
    }
    const url = typeof spec.target === 'string' ? new URL(spec.target, base) : spec.target;
    const attempts = spec.attempts ?? this.retry.attempts;
    let scopes = spec.scopes;
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { ...(spec.headers ?? {}) };
      if (url.origin === base.origin) {
        let authz: string | undefined;
        try {
          authz = await this.auth.authorization(scopes, spec.repo);
        } catch (err) {
          throw inContext(err, spec.what);
        }
        if (authz) headers.authorization = authz;
      }
      let body: Buffer | Readable | undefined;
      if (Buffer.isBuffer(spec.body)) body = spec.body;
      else if (spec.body) body = await spec.body();
      let res: HttpResponse;
      try {
        res = await this.transport.request({
          method: spec.method,
          url,
          headers,
          ...(body !== undefined ? { body } : {}),
        });
      } catch (err) {
        if (body && !Buffer.isBuffer(body)) body.destroy();
        if (err instanceof RechunkerError || !isRetryableError(err)) {
          if (err instanceof RechunkerError) throw err;
          throw new RechunkerError('NETWORK', `${spec.what}: ${(err as Error).message}`, { cause: err });
        }
        if (attempt >= attempts) {
          if (attempts === 1) throw new TransientError((err as Error).message, undefined, { cause: err });
          throw new RechunkerError(
            'NETWORK',
            `${spec.what}: ${(err as Error).message}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`,
            {
              cause: err,
            },
          );
        }
        await wait(backoffDelay(attempt, this.retry));
        continue;
      }
      if (res.status === 401 && !authRetried && url.origin === base.origin) {
        authRetried = true;
        discard(res.body);
        if (body && !Buffer.isBuffer(body)) body.destroy();
        scopes = [...spec.scopes, ...this.auth.onUnauthorized(res.headers['www-authenticate'], spec.scopes)];
        attempt--; // an auth round trip is not a failed attempt
        continue;
      }
      if (isRetryableStatus(res.status)) {
        const retryAfter = parseRetryAfter(res.headers['retry-after']);
        if (attempt < attempts) {
          discard(res.body);
          if (body && !Buffer.isBuffer(body)) body.destroy();
          await wait(backoffDelay(attempt, this.retry, retryAfter));
          continue;
        }
      }
      return res;
    }
  }

  close(): void {
    this.transport.close();
  }
}
