import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { rewriteGoBooleans, transportOptions } from '../../src/cli/flags.js';
import { accessFor, asDestination, registryOptions } from '../../src/engine/registry-access.js';

describe('per-side registry access', () => {
  it('a side flag overrides the shared one for its side only; the other side keeps the shared one', () => {
    const opts = transportOptions({
      'tls-verify': true,
      creds: 'both:pw',
      'dest-creds': 'pusher:pw2',
      'src-tls-verify': false,
      'retry-times': 2,
    });
    assert.deepEqual(registryOptions(opts, 'src'), { creds: 'both:pw', tlsVerify: false, retry: { attempts: 3 } });
    assert.deepEqual(registryOptions(opts, 'dest'), { creds: 'pusher:pw2', tlsVerify: true, retry: { attempts: 3 } });
  });

  it('the destination side reads a prior that lives at the destination registry', () => {
    const opts = transportOptions({ 'tls-verify': true, 'src-creds': 'a:1', 'dest-creds': 'b:2' });
    assert.equal(registryOptions(asDestination(opts), 'src').creds, 'b:2');
    assert.equal(
      registryOptions(accessFor('docker://reg.example/os:41', 'docker://reg.example/os:42', opts), 'src').creds,
      'b:2',
    );
    assert.equal(
      registryOptions(accessFor('docker://other.example/os:41', 'docker://reg.example/os:42', opts), 'src').creds,
      'a:1',
    );
  });

  it('--src-tls-verify=false and --dest-tls-verify=0 take Go boolean spellings', () => {
    assert.deepEqual(rewriteGoBooleans(['--src-tls-verify=false', '--dest-tls-verify=0', '--tls-verify=true']), [
      '--no-src-tls-verify',
      '--no-dest-tls-verify',
      '--tls-verify',
    ]);
  });

  it('--authfile naming a missing file is a USAGE error, as in skopeo', async () => {
    const missing = path.join(os.tmpdir(), `rechunker-no-such-auth-${process.pid}.json`);
    for (const flag of ['authfile', 'src-authfile', 'dest-authfile']) {
      assert.throws(
        () => transportOptions({ 'tls-verify': true, [flag]: missing }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'USAGE');
          assert.match(e.message, new RegExp(`--${flag}.*no such file`));
          return true;
        },
      );
    }
    const there = path.join(os.tmpdir(), `rechunker-auth-${process.pid}.json`);
    await fs.writeFile(there, '{"auths":{}}');
    try {
      assert.equal(transportOptions({ 'tls-verify': true, authfile: there }).authfile, there);
    } finally {
      await fs.rm(there);
    }
  });
});
