import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * One HTTP exchange with redirects, and nothing more: retries and auth are the caller's.
 *
 * - keep-alive agents, one for http and one for https; `tlsVerify: false` accepts any certificate;
 * - redirects followed by hand (at most 5) for GET and HEAD, and for other methods only with a
 *   replayable (Buffer) body on 307/308; an `Authorization` header is dropped as soon as a
 *   redirect leaves the origin (scheme, host, port) the request started at, so credentials and
 *   tokens never reach blob storage or any other host;
 * - an idle timeout on the socket, reported as a retryable error.
 */
export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A Buffer is sent with Content-Length; a stream is sent as is (set Content-Length yourself). */
  body?: Buffer | Readable;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  /** Where the answer came from, after redirects. */
  url: URL;
  body: IncomingMessage;
}

export interface HttpTransportOptions {
  tlsVerify: boolean;
  userAgent: string;
  /** Socket idle time before a request fails (default 60 s). */
  timeoutMs?: number;
  maxRedirects?: number;
  /** Extra CAs and a client certificate (--cert-dir), PEM. */
  certs?: { ca: string[]; cert?: string; key?: string };
}

export class TimeoutError extends Error {
  readonly code = 'RECHUNKER_TIMEOUT';
  constructor(ms: number, url: URL) {
    super(`no data for ${Math.round(ms / 1000)} s from ${url.host}`);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly opts: HttpTransportOptions) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const certs = opts.certs;
    // `ca` replaces Node's list: the system's roots stay trusted beside the directory's.
    const ca = certs && certs.ca.length > 0 ? { ca: [...tls.rootCertificates, ...certs.ca] } : {};
    const client = certs?.cert && certs.key ? { cert: certs.cert, key: certs.key } : {};
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: 16,
      rejectUnauthorized: opts.tlsVerify,
      ...ca,
      ...client,
    });
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const origin = req.url.origin;
    let url = req.url;
    let method = req.method;
    let headers = { ...(req.headers ?? {}) };
    let body = req.body;
    const max = this.opts.maxRedirects ?? 5;
    for (let hop = 0; ; hop++) {
      const res = await this.once(method, url, headers, body);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode ?? 0) || location === undefined) {
        return {
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          url,
          body: res,
        };
      }
      const replayable =
        method === 'GET' || method === 'HEAD' || res.statusCode === 303 || Buffer.isBuffer(body) || body === undefined;
      if (hop >= max || !replayable) {
        return {
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          url,
          body: res,
        };
      }
      res.resume();
      url = new URL(location, url);
      if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers = withoutHeaders(headers, ['content-length', 'content-type']);
      }
      if (url.origin !== origin) headers = withoutHeaders(headers, ['authorization']);
    }
  }

  private once(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: Buffer | Readable | undefined,
  ): Promise<IncomingMessage> {
    const isHttps = url.protocol === 'https:';
    if (!isHttps && url.protocol !== 'http:')
      return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
    const h: Record<string, string> = { 'user-agent': this.opts.userAgent, ...lowerKeys(headers) };
    if (Buffer.isBuffer(body)) h['content-length'] = String(body.length);
    else if (body === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH'))
      h['content-length'] = '0';
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const mod = isHttps ? https : http;
      const req = mod.request(url, { method, headers: h, agent: isHttps ? this.httpsAgent : this.httpAgent });
      let settled = false;
      let response: IncomingMessage | undefined;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      req.setTimeout(timeoutMs, () => {
        // Once the answer has begun, its reader is the one waiting: it gets the reason, not "aborted".
        const err = new TimeoutError(timeoutMs, url);
        response?.destroy(err);
        req.destroy(err);
      });
      req.on('error', fail);
      req.on('response', (res) => {
        settled = true;
        response = res;
        // A body still streaming when the server has answered (e.g. 401 before reading it): stop it.
        // The connection is then in an unknown state: do not reuse it.
        if (body && !Buffer.isBuffer(body) && !body.readableEnded) {
          body.unpipe(req);
          res.on('end', () => req.destroy());
        }
        resolve(res);
      });
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on('error', (err) => {
          req.destroy(err);
          fail(err);
        });
        body.pipe(req);
      }
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

function withoutHeaders(h: Record<string, string>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (!names.includes(k.toLowerCase())) out[k] = v;
  return out;
}

/** Read a whole (small) body, refusing more than `limit` bytes. */
export async function readBody(res: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.destroy();
    throw new BodyTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) {
        res.destroy();
        throw new BodyTooLargeError(limit);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    // Node's word for a connection that closed mid-answer (or sent a broken chunked body).
    if (err instanceof Error && err.message === 'aborted') {
      const of = Number.isFinite(declared) ? ` of ${declared}` : '';
      throw new Error(`the connection closed after ${total}${of} bytes of the answer`, { cause: err });
    }
    throw err;
  }
  return Buffer.concat(chunks);
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

/** Throw the body away so the connection can be reused. */
export function discard(res: IncomingMessage): void {
  res.on('error', () => {});
  res.resume();
}
