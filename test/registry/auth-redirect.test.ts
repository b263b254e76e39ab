// The auth and request layers against small loopback servers written here: credentials and
// tokens stay with the registry host (a redirect to "blob storage" on another port gets none),
// tokens come from `token` or `access_token`, expire and are renewed, a revoked token is replaced
// on 401; manifest size cap and digest check; a download that drops against a server without
// Range support restarts without emitting bytes twice.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { RegistryClient } from '../../src/registry/client.js';
import { backoffDelay, isRetryableStatus, parseRetryAfter, retryPolicy } from '../../src/registry/retry.js';
import { readAll } from '../helpers/test-image.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(handler: Handler): Promise<{ port: number; host: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');
const USER = 'alice';
const PASS = 'pa55-w0rd-never-leaks';
const BASIC = 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64');
const FAST = { attempts: 4, baseDelayMs: 5, maxDelayMs: 50 };

describe('auth and request layer', () => {
  const blob = randomBytes(300_000);
  const blobDigest = sha(blob);
  const storageSeen: Array<{ authorization?: string; url: string }> = [];
  const registrySeen: Array<{ authorization?: string; url: string; method: string }> = [];
  let storage: Awaited<ReturnType<typeof serve>>;
  let tokenSrv: Awaited<ReturnType<typeof serve>>;
  let basicReg: Awaited<ReturnType<typeof serve>>;
  let bearerReg: Awaited<ReturnType<typeof serve>>;
  let tokenCount = 0;
  let validTokens = new Set<string>();
  let dropFirst = 0;

  before(async () => {
    storage = await serve((req, res) => {
      storageSeen.push({
        url: req.url ?? '',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      });
      // No Range support; the first `dropFirst` answers are cut after 100 000 bytes.
      res.writeHead(200, { 'content-length': String(blob.length), 'content-type': 'application/octet-stream' });
      if (dropFirst > 0) {
        dropFirst--;
        res.write(blob.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 10));
        return;
      }
      res.end(blob);
    });
    tokenSrv = await serve((req, res) => {
      if (req.headers.authorization !== BASIC) {
        res.writeHead(401).end();
        return;
      }
      const token = `tok-${++tokenCount}`;
      validTokens.add(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      // Only access_token, and a lifetime below the 60 s floor.
      res.end(JSON.stringify({ access_token: token, expires_in: 5 }));
    });
    const registry =
      (check: (authz: string | undefined) => boolean, challenge: () => string): Handler =>
      (req, res) => {
        registrySeen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        });
        if (!check(req.headers.authorization)) {
          res.writeHead(401, { 'www-authenticate': challenge(), 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
          return;
        }
        const url = req.url ?? '';
        if (url === '/v2/') return void res.writeHead(200).end();
        if (url.startsWith('/v2/r/blobs/')) {
          res.writeHead(307, { location: `http://127.0.0.1:${storage.port}/storage/blob?sig=abc` });
          return void res.end();
        }
        if (url === '/v2/r/manifests/big') {
          res.writeHead(200, {
            'content-type': 'application/vnd.oci.image.manifest.v1+json',
            'content-length': String(5 * 1024 * 1024),
          });
          return void res.end(Buffer.alloc(5 * 1024 * 1024, 0x20));
        }
        if (url === '/v2/r/manifests/chunked-big') {
          res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
          for (let i = 0; i < 5; i++) res.write(Buffer.alloc(1024 * 1024, 0x20));
          return void res.end();
        }
        if (url.startsWith('/v2/r/manifests/sha256:')) {
          res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
          return void res.end('{"schemaVersion":2,"tampered":true}');
        }
        res.writeHead(404).end();
      };
    basicReg = await serve(
      registry(
        (a) => a === BASIC,
        () => 'Basic realm="fake"',
      ),
    );
    bearerReg = await serve(
      registry(
        (a) => typeof a === 'string' && a.startsWith('Bearer ') && validTokens.has(a.slice(7)),
        () => `Bearer realm="http://127.0.0.1:${tokenSrv.port}/token",service="fake",scope="repository:r:pull"`,
      ),
    );
  });

  after(async () => {
    await Promise.all([storage.close(), tokenSrv.close(), basicReg.close(), bearerReg.close()]);
  });

  it('Basic: credentials go to the registry, never to the storage host it redirects to', async () => {
    storageSeen.length = 0;
    registrySeen.length = 0;
    const client = new RegistryClient(basicReg.host, { creds: `${USER}:${PASS}`, retry: FAST });
    try {
      const data = await readAll(
        await client.openBlob('r', { mediaType: 'application/octet-stream', digest: blobDigest, size: blob.length }),
      );
      assert.ok(data.equals(blob));
      assert.ok(registrySeen.some((r) => r.url.startsWith('/v2/r/blobs/') && r.authorization === BASIC));
      assert.ok(storageSeen.length > 0);
      assert.deepEqual(
        storageSeen.filter((s) => s.authorization !== undefined),
        [],
      );
    } finally {
      client.close();
    }
  });

  it('Bearer: token from access_token, sent to the registry only, renewed after expiry and after a 401', async () => {
    storageSeen.length = 0;
    let now = 1_000_000;
    const client = new RegistryClient(bearerReg.host, { creds: `${USER}:${PASS}`, retry: FAST, now: () => now });
    try {
      const desc = { mediaType: 'application/octet-stream', digest: blobDigest, size: blob.length };
      assert.ok((await readAll(await client.openBlob('r', desc))).equals(blob));
      assert.equal(client.conn.auth.tokenFetches, 1);
      assert.deepEqual(
        storageSeen.filter((s) => s.authorization !== undefined),
        [],
      );
      // Cached: no new token.
      assert.equal(await client.hasBlob('r', blobDigest), true);
      assert.equal(client.conn.auth.tokenFetches, 1);
      // expires_in 5 is raised to the 60 s floor; past it the token is renewed.
      now += 61_000;
      assert.equal(await client.hasBlob('r', blobDigest), true);
      assert.equal(client.conn.auth.tokenFetches, 2);
      // The registry forgets every token: one 401, a new token, success.
      validTokens = new Set();
      assert.equal(await client.hasBlob('r', blobDigest), true);
      assert.equal(client.conn.auth.tokenFetches, 3);
    } finally {
      client.close();
    }
  });

  it('Bearer: refused credentials are an AUTH error that does not print them', async () => {
    const client = new RegistryClient(bearerReg.host, { creds: `${USER}:wrong-${PASS}`, retry: FAST });
    try {
      await assert.rejects(
        client.hasBlob('r', blobDigest),
        (e: unknown) =>
          e instanceof RechunkerError && e.code === 'AUTH' && !e.message.includes(PASS) && !e.message.includes('\n'),
      );
    } finally {
      client.close();
    }
  });

  it('caps manifests at 4 MiB and checks a manifest fetched by digest', async () => {
    const client = new RegistryClient(basicReg.host, { creds: `${USER}:${PASS}`, retry: FAST });
    try {
      await assert.rejects(
        client.getManifest('r', 'big'),
        (e: unknown) => e instanceof RechunkerError && e.code === 'BAD_MANIFEST' && /manifest big/.test(e.message),
      );
      await assert.rejects(
        client.getManifest('r', 'chunked-big'),
        (e: unknown) => e instanceof RechunkerError && e.code === 'BAD_MANIFEST',
      );
      const d = 'sha256:' + 'b'.repeat(64);
      await assert.rejects(
        client.getManifest('r', d),
        (e: unknown) => e instanceof RechunkerError && e.code === 'DIGEST_MISMATCH' && e.message.includes(d),
      );
      await assert.rejects(
        client.getManifest('r', 'missing'),
        (e: unknown) =>
          e instanceof RechunkerError &&
          e.code === 'NOT_FOUND' &&
          /HTTP 404/.test(e.message) &&
          e.message.includes(basicReg.host),
      );
    } finally {
      client.close();
    }
  });

  it('restarts a dropped download from 0 when the server ignores Range, without duplicate bytes', async () => {
    dropFirst = 2;
    const client = new RegistryClient(basicReg.host, { creds: `${USER}:${PASS}`, retry: FAST });
    try {
      const data = await readAll(
        await client.openBlob('r', { mediaType: 'application/octet-stream', digest: blobDigest, size: blob.length }),
      );
      assert.equal(data.length, blob.length);
      assert.ok(data.equals(blob));
      assert.equal(dropFirst, 0);
    } finally {
      client.close();
    }
  });

  it('fails a blob whose bytes do not match its descriptor', async () => {
    const client = new RegistryClient(basicReg.host, { creds: `${USER}:${PASS}`, retry: FAST });
    try {
      const wrongDigest = 'sha256:' + 'c'.repeat(64);
      await assert.rejects(
        readAll(await client.openBlob('r', { mediaType: 'x', digest: wrongDigest, size: blob.length })),
        (e: unknown) => e instanceof RechunkerError && e.code === 'DIGEST_MISMATCH' && e.message.includes(wrongDigest),
      );
      await assert.rejects(
        readAll(await client.openBlob('r', { mediaType: 'x', digest: blobDigest, size: 1000 })),
        (e: unknown) => e instanceof RechunkerError && e.code === 'SIZE_MISMATCH',
      );
    } finally {
      client.close();
    }
  });

  it('retries the right statuses and honours Retry-After within the cap', () => {
    for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(isRetryableStatus(s), true, String(s));
    for (const s of [400, 401, 403, 404, 409, 501, 505]) assert.equal(isRetryableStatus(s), false, String(s));
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', now), 7000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    const p = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
    assert.equal(backoffDelay(1, p, 120_000), 1000);
    // Retry-After lengthens the wait, never shortens it below the backoff.
    for (let a = 1; a < 5; a++)
      assert.ok(backoffDelay(a, p, 0) >= Math.min(1000, 100 * 2 ** (a - 1)) / 2, `Retry-After: 0 on attempt ${a}`);
    assert.equal(backoffDelay(1, p, 700), 700);
    for (let a = 1; a < 8; a++) {
      const d = backoffDelay(a, p);
      assert.ok(d >= Math.min(1000, 100 * 2 ** (a - 1)) / 2 && d <= 1000, `attempt ${a}: ${d}`);
    }
  });
});
