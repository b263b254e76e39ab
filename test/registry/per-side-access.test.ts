import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newEntry } from '../../src/tar/entry.js';
import { runCli } from '../helpers/cli.js';
import { makeImage, tarBytes } from '../helpers/make-image.js';
import { registryAvailable, startRegistry, type RegistryServer } from '../helpers/registry-server.js';

/** Two registries, two logins: each side of a copy takes its own credentials and certificates. */
const skip = !registryAvailable() && 'no docker-registry';
let tmp: string;
let image: string;
let a: RegistryServer | undefined;
let b: RegistryServer | undefined;

before(async () => {
  if (skip) return;
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-per-side-'));
  const tar = await tarBytes([
    { entry: newEntry('etc', 'dir') },
    { entry: newEntry('etc/os', 'file', { size: 3 }), body: Buffer.from('os\n') },
  ]);
  await makeImage(path.join(tmp, 'src'), 'v1', [tar]);
  image = `oci:${path.join(tmp, 'src')}:v1`;
  a = await startRegistry({ auth: 'htpasswd', users: { alice: 'pw-a' }, tls: true });
  b = await startRegistry({ auth: 'htpasswd', users: { bob: 'pw-b' } });
});
after(async () => {
  await a?.stop();
  await b?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('per-side registry access', { skip }, () => {
  it('--dest-cert-dir trusts a registry whose CA is in the directory, without --tls-verify=false', async () => {
    const certs = path.join(tmp, 'certs');
    await fs.mkdir(certs);
    await fs.copyFile(path.join(a!.dir, 'tls.crt'), path.join(certs, 'ca.crt'));
    const untrusted = await runCli([
      'copy',
      image,
      `docker://${a!.host}/os:v0`,
      '-q',
      '--dest-creds',
      'alice:pw-a',
      '--retry-times',
      '0',
    ]);
    assert.equal(untrusted.code, 1, 'a self-signed certificate is refused without the directory');
    const r = await runCli([
      'copy',
      image,
      `docker://${a!.host}/os:v1`,
      '-q',
      '--dest-creds',
      'alice:pw-a',
      '--dest-cert-dir',
      certs,
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('registry to registry with --src-creds/--src-cert-dir and --dest-creds: each side logs in as itself', async () => {
    const certs = path.join(tmp, 'certs');
    const args = ['copy', `docker://${a!.host}/os:v1`, `docker://${b!.host}/os:v1`, '-q', '--src-cert-dir', certs];
    const ok = await runCli([
      ...args,
      '--src-creds',
      'alice:pw-a',
      '--dest-creds',
      'bob:pw-b',
      '--digestfile',
      path.join(tmp, 'd'),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(await fs.readFile(path.join(tmp, 'd'), 'utf8'), /^sha256:/);
    const shared = await runCli([...args, '--creds', 'alice:pw-a']);
    assert.equal(shared.code, 1, 'alice has no login at B');
    assert.match(shared.stderr, /^rechunker: error \[AUTH\]: .*127\.0\.0\.1:\d+/);
    assert.ok(shared.stderr.includes(b!.host), shared.stderr);
  });

  it('--retry-times 0 makes one attempt: a registry that is not there fails at once', async () => {
    const t0 = Date.now();
    const r = await runCli(['copy', image, 'docker://127.0.0.1:9/os:v1', '-q', '--retry-times', '0']);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  });
});
