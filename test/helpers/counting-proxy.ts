// An HTTP proxy on 127.0.0.1 in front of a test registry that counts what clients download: for
// every GET of a blob, the digest, the status and the body bytes that went out. Requests and the
// Host header pass unchanged, so the registry's URLs point back at the proxy.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BlobFetch {
  digest: string;
  status: number;
  /** response body bytes sent to the client */
  bytes: number;
  userAgent: string;
}

export interface CountingProxy {
  host: string;
  port: number;
  fetches: BlobFetch[];
  /** Forget what was counted so far (between two pulls). */
  reset(): void;
  stop(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade'];
const BLOB = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/;

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const fetches: BlobFetch[] = [];
  const server = http.createServer((req, res) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) headers[k] = v;
    const blob = req.method === 'GET' ? BLOB.exec((req.url ?? '').split('?')[0]!) : null;
    const upstream = http.request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers, agent },
      (up) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) out[k] = v;
        res.writeHead(up.statusCode ?? 502, out);
        const fetch = blob
          ? {
              digest: blob[1]!,
              status: up.statusCode ?? 0,
              bytes: 0,
              userAgent: String(req.headers['user-agent'] ?? ''),
            }
          : undefined;
        if (fetch) fetches.push(fetch);
        up.on('data', (chunk: Buffer) => {
          if (fetch) fetch.bytes += chunk.length;
        });
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    port,
    fetches,
    reset: () => void fetches.splice(0),
    stop: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
