import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { HttpTransport, readBody } from '../../src/registry/http.js';

test('an answer that stalls after its first bytes fails with the idle timeout, not "aborted"', async () => {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('x'.repeat(10)); // and then nothing
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const transport = new HttpTransport({ userAgent: 'test', tlsVerify: true, timeoutMs: 300 });
  try {
    const res = await transport.request({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`) });
    await assert.rejects(readBody(res.body, 1 << 20), /no data for 0 s from 127\.0\.0\.1/);
  } finally {
    transport.close();
    server.closeAllConnections();
    server.close();
  }
});

test('an answer cut short says how much of it came, not "aborted"', async () => {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('x'.repeat(10), () => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const transport = new HttpTransport({ userAgent: 'test', tlsVerify: true });
  try {
    const res = await transport.request({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`) });
    await assert.rejects(readBody(res.body, 1 << 20), /the connection closed after 10 of 1000 bytes of the answer/);
  } finally {
    transport.close();
    server.closeAllConnections();
    server.close();
  }
});
