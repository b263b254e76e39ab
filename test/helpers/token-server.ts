// A distribution-spec token server for tests: checks Basic credentials, grants the requested
// scopes (all actions to a known user, pull only to anonymous callers when allowed) and answers
// with a JWT that CNCF distribution 2.8 accepts: RS256, signed by a key whose self-signed
// certificate travels in the header's `x5c` and is the registry's `rootcertbundle`.
// Listens on 127.0.0.1 only.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface TokenRequestRecord {
  user?: string;
  scopes: string[];
  granted: Array<{ type: string; name: string; actions: string[] }>;
  status: number;
}

export interface TokenServerOptions {
  users: Record<string, string>;
  /** Which repositories anonymous callers may pull (default none). */
  anonymousPull?: (repo: string) => boolean;
  /** Which JSON field carries the token (default both `token` and `access_token`). */
  field?: 'token' | 'access_token' | 'both';
  expiresIn?: number;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** An RSA key and a self-signed certificate for it, made with the openssl CLI in `dir`. */
export function makeSigningCert(dir: string): { keyPem: string; certPem: string; certPath: string } {
  const keyPath = path.join(dir, 'token.key');
  const certPath = path.join(dir, 'token.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=rechunker-test-token-issuer',
    ],
    { stdio: 'ignore' },
  );
  return { keyPem: readFileSync(keyPath, 'utf8'), certPem: readFileSync(certPath, 'utf8'), certPath };
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

export async function startTokenServer(dir: string, opts: TokenServerOptions): Promise<TokenServer> {
  const { keyPem, certPem, certPath } = makeSigningCert(dir);
  const key = createPrivateKey(keyPem);
  const certDer = new X509Certificate(certPem).raw.toString('base64');
  const service = 'rechunker-test-registry';
  const issuer = 'rechunker-test-issuer';
  const requests: TokenRequestRecord[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let user: string | undefined;
    const authz = req.headers.authorization;
    const answer = (status: number, body: unknown, record: Omit<TokenRequestRecord, 'status'>): void => {
      requests.push({ ...record, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    if (authz?.startsWith('Basic ')) {
      const decoded = Buffer.from(authz.slice(6), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      const name = decoded.slice(0, i);
      if (i < 0 || opts.users[name] === undefined || opts.users[name] !== decoded.slice(i + 1)) {
        answer(401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }, { scopes, granted: [] });
        return;
      }
      user = name;
    }
    if (url.searchParams.get('service') !== service) {
      answer(
        400,
        { errors: [{ code: 'BAD_SERVICE', message: 'unknown service' }] },
        { ...(user ? { user } : {}), scopes, granted: [] },
      );
      return;
    }
    const granted = scopes
      .map(parseScope)
      .filter((s): s is NonNullable<typeof s> => s !== undefined && s.type === 'repository')
      .map((s) => ({
        ...s,
        actions: user ? s.actions : s.actions.filter((a) => a === 'pull' && (opts.anonymousPull?.(s.name) ?? false)),
      }));
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access: granted,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), key))}`;
    const field = opts.field ?? 'both';
    const body: Record<string, unknown> = { expires_in: opts.expiresIn ?? 300, issued_at: new Date().toISOString() };
    if (field !== 'access_token') body.token = token;
    if (field !== 'token') body.access_token = token;
    answer(200, body, { ...(user ? { user } : {}), scopes, granted });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
