// A fault-injecting HTTP proxy on 127.0.0.1 in front of a test registry. Requests go through
// unchanged (the Host header too, so the registry's Location URLs point back at the proxy)
// unless a rule matches: then it answers an error status (with Retry-After if asked), or cuts
// the connection after some bytes of the response body or of the request body. Each rule fires
// a bounded number of times. It logs every request and counts upload body bytes.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultAction =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'drop-response'; afterBytes: number }
  | { kind: 'drop-request'; afterBytes: number };

export interface FaultRule {
  method?: string;
  path: RegExp;
  action: FaultAction;
  /** How many times the rule fires (Infinity: always). */
  times: number;
  hits: number;
}

export interface ProxyLogEntry {
  method: string;
  path: string;
  range?: string;
  fault?: FaultAction['kind'];
  status?: number;
}

export interface FaultProxy {
  host: string;
  port: number;
  rules: FaultRule[];
  log: ProxyLogEntry[];
  /** Request body bytes of PATCH/PUT to `/blobs/uploads/` that reached the proxy. */
  uploadBodyBytes: number;
  addRule(rule: Omit<FaultRule, 'hits'>): FaultRule;
  clearRules(): void;
  stop(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade'];

function strip(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) out[k] = v;
  return out;
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const proxy: FaultProxy = {
    host: '',
    port: 0,
    rules: [],
    log: [],
    uploadBodyBytes: 0,
    addRule(rule) {
      const r = { ...rule, hits: 0 };
      this.rules.push(r);
      return r;
    },
    clearRules() {
      this.rules.length = 0;
    },
    stop: async () => {},
  };

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const entry: ProxyLogEntry = { method, path };
    if (typeof req.headers.range === 'string') entry.range = req.headers.range;
    proxy.log.push(entry);
    const rule = proxy.rules.find((r) => r.hits < r.times && (!r.method || r.method === method) && r.path.test(path));
    if (rule) {
      rule.hits++;
      entry.fault = rule.action.kind;
    }
    const isUpload = (method === 'PUT' || method === 'PATCH') && path.includes('/blobs/uploads/');
    req.on('data', (chunk: Buffer) => {
      if (isUpload) proxy.uploadBodyBytes += chunk.length;
    });

    if (rule?.action.kind === 'status') {
      const action = rule.action;
      // Read (and discard) the body first, as a real server in trouble may, then answer.
      req.resume();
      req.on('end', () => {
        entry.status = action.status;
        const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
        if (action.retryAfter !== undefined) headers['retry-after'] = action.retryAfter;
        res.writeHead(action.status, headers);
        res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: `injected fault ${action.status}` }] }));
      });
      return;
    }

    const upstream = http.request({
      host: '127.0.0.1',
      port: targetPort,
      method,
      path,
      headers: strip(req.headers),
      agent,
    });
    upstream.on('error', () => res.destroy());
    req.on('error', () => upstream.destroy());
    if (rule?.action.kind === 'drop-request') {
      const limit = rule.action.afterBytes;
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        if (seen + chunk.length >= limit) {
          upstream.write(chunk.subarray(0, Math.max(0, limit - seen)));
          seen = limit;
          req.socket.destroy();
          upstream.destroy();
          return;
        }
        seen += chunk.length;
        upstream.write(chunk);
      });
      req.on('end', () => upstream.end());
    } else {
      req.pipe(upstream);
    }
    upstream.on('response', (ures) => {
      entry.status = ures.statusCode;
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, strip(ures.headers));
      if (rule?.action.kind === 'drop-response') {
        const limit = rule.action.afterBytes;
        let sent = 0;
        if (limit <= 0) {
          res.flushHeaders();
          setTimeout(() => {
            res.socket?.destroy();
            ures.destroy();
          }, 20);
          return;
        }
        ures.on('data', (chunk: Buffer) => {
          if (sent >= limit) return;
          const part = chunk.subarray(0, limit - sent);
          sent += part.length;
          res.write(part);
          if (sent >= limit) {
            // Let the bytes reach the client, then cut the connection mid-body.
            setTimeout(() => {
              res.socket?.destroy();
              ures.destroy();
            }, 20);
          }
        });
        ures.on('end', () => {
          if (sent < limit) res.end();
        });
      } else {
        ures.pipe(res);
      }
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.host = `127.0.0.1:${proxy.port}`;
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
