import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import {
  authFilePaths,
  lookupCredentials,
  normalizeAuthKey,
  type CredentialOptions,
} from '../../src/registry/credentials.js';

const auth = (user: string, pass: string): { auth: string } => ({
  auth: Buffer.from(`${user}:${pass}`).toString('base64'),
});

describe('credential lookup', () => {
  let root: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'rechunker-creds-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A fresh HOME and runtime dir, an env that points at them and nothing else. */
  async function world(): Promise<{
    home: string;
    run: string;
    env: NodeJS.ProcessEnv;
    opts: CredentialOptions;
    write: (file: string, content: unknown) => Promise<string>;
  }> {
    const dir = path.join(root, `w${n++}`);
    const home = path.join(dir, 'home');
    const run = path.join(dir, 'run');
    await mkdir(home, { recursive: true });
    await mkdir(run, { recursive: true });
    const env: NodeJS.ProcessEnv = { HOME: home, XDG_RUNTIME_DIR: run, PATH: process.env.PATH };
    const write = async (file: string, content: unknown): Promise<string> => {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
      return file;
    };
    return { home, run, env, opts: { env }, write };
  }

  it('follows containers/image order: runtime auth.json, ~/.config, docker config, ~/.dockercfg', async () => {
    const w = await world();
    const runtime = path.join(w.run, 'containers/auth.json');
    const config = path.join(w.home, '.config/containers/auth.json');
    const docker = path.join(w.home, '.docker/config.json');
    const legacy = path.join(w.home, '.dockercfg');
    assert.deepEqual(
      authFilePaths(w.opts).map((f) => f.path),
      [runtime, config, docker, legacy],
    );
    await w.write(legacy, { 'reg.io': auth('legacy', 'p0') });
    assert.equal((await lookupCredentials('reg.io', 'a/b', w.opts))?.username, 'legacy');
    await w.write(docker, { auths: { 'reg.io': auth('docker', 'p1') } });
    assert.equal((await lookupCredentials('reg.io', 'a/b', w.opts))?.username, 'docker');
    await w.write(config, { auths: { 'reg.io': auth('config', 'p2') } });
    assert.equal((await lookupCredentials('reg.io', 'a/b', w.opts))?.username, 'config');
    await w.write(runtime, { auths: { 'reg.io': auth('runtime', 'p3') } });
    assert.deepEqual(await lookupCredentials('reg.io', 'a/b', w.opts), { username: 'runtime', password: 'p3' });
    // A file without an entry for the host does not stop the search.
    assert.equal(await lookupCredentials('other.io', undefined, w.opts), undefined);
    await w.write(config, { auths: { 'other.io': auth('o', 'p') } });
    assert.equal((await lookupCredentials('other.io', undefined, w.opts))?.username, 'o');
    // --creds beats every file.
    assert.deepEqual(await lookupCredentials('reg.io', 'a/b', { ...w.opts, creds: 'me:pa:ss' }), {
      username: 'me',
      password: 'pa:ss',
    });
  });

  it('uses only the --authfile or $REGISTRY_AUTH_FILE when one is given (--authfile first)', async () => {
    const w = await world();
    await w.write(path.join(w.run, 'containers/auth.json'), { auths: { 'reg.io': auth('runtime', 'x') } });
    const given = await w.write(path.join(w.home, 'given.json'), { auths: { 'reg.io': auth('given', 'x') } });
    const envFile = await w.write(path.join(w.home, 'env.json'), { auths: { 'reg.io': auth('envfile', 'x') } });
    assert.equal((await lookupCredentials('reg.io', undefined, { ...w.opts, authfile: given }))?.username, 'given');
    const env = { ...w.env, REGISTRY_AUTH_FILE: envFile };
    assert.equal((await lookupCredentials('reg.io', undefined, { env }))?.username, 'envfile');
    assert.equal((await lookupCredentials('reg.io', undefined, { env, authfile: given }))?.username, 'given');
    // The given file has nothing for this host: the default files are not consulted.
    assert.equal(await lookupCredentials('other.io', undefined, { ...w.opts, authfile: given }), undefined);
    await w.write(path.join(w.run, 'containers/auth.json'), { auths: { 'other.io': auth('runtime', 'x') } });
    assert.equal(await lookupCredentials('other.io', undefined, { ...w.opts, authfile: given }), undefined);
    assert.equal((await lookupCredentials('other.io', undefined, w.opts))?.username, 'runtime');
  });

  it('honours $DOCKER_CONFIG and $XDG_CONFIG_HOME', async () => {
    const w = await world();
    const dockerDir = path.join(w.home, 'dc');
    const xdg = path.join(w.home, 'xdg');
    await w.write(path.join(dockerDir, 'config.json'), { auths: { 'reg.io': auth('dockerconfig', 'x') } });
    await w.write(path.join(w.home, '.docker/config.json'), { auths: { 'reg.io': auth('homedocker', 'x') } });
    assert.equal(
      (await lookupCredentials('reg.io', undefined, { env: { ...w.env, DOCKER_CONFIG: dockerDir } }))?.username,
      'dockerconfig',
    );
    await w.write(path.join(xdg, 'containers/auth.json'), { auths: { 'reg.io': auth('xdg', 'x') } });
    assert.equal(
      (await lookupCredentials('reg.io', undefined, { env: { ...w.env, XDG_CONFIG_HOME: xdg } }))?.username,
      'xdg',
    );
  });

  it('picks the most specific key: host/ns/repo, then host/ns, then host, then URL-style keys', async () => {
    const w = await world();
    await w.write(path.join(w.home, '.config/containers/auth.json'), {
      auths: {
        'reg.io': auth('host', 'x'),
        'reg.io/team': auth('team', 'x'),
        'reg.io/team/app': auth('app', 'x'),
        'https://index.docker.io/v1/': auth('hub', 'x'),
        'http://local.io:5000/v2/': { username: 'plain', password: 'pw' },
        'quay.io': { identitytoken: 'refresh-me' },
      },
    });
    assert.equal((await lookupCredentials('reg.io', 'team/app', w.opts))?.username, 'app');
    assert.equal((await lookupCredentials('reg.io', 'team/app/sub', w.opts))?.username, 'app');
    assert.equal((await lookupCredentials('reg.io', 'team/other', w.opts))?.username, 'team');
    assert.equal((await lookupCredentials('reg.io', 'elsewhere/x', w.opts))?.username, 'host');
    assert.equal((await lookupCredentials('docker.io', 'library/fedora', w.opts))?.username, 'hub');
    assert.deepEqual(await lookupCredentials('local.io:5000', 'x', w.opts), { username: 'plain', password: 'pw' });
    assert.deepEqual(await lookupCredentials('quay.io', 'x', w.opts), { identityToken: 'refresh-me' });
    assert.equal(normalizeAuthKey('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(normalizeAuthKey('registry-1.docker.io/library'), 'docker.io/library');
  });

  it('asks docker-credential helpers (credHelpers, then credsStore) with the server URL on stdin', async () => {
    const w = await world();
    const bin = path.join(w.home, 'bin');
    await mkdir(bin);
    // The helper echoes the server URL it was asked about as the user name.
    const script = [
      `#!/bin/sh`,
      `[ "$1" = get ] || exit 2`,
      `read -r url`,
      `case "$url" in`,
      `  *nothing*) echo "credentials not found in native keychain"; exit 1;;`,
      `  *token*) printf '{"ServerURL":"%s","Username":"<token>","Secret":"idtok"}' "$url";;`,
      `  *) printf '{"ServerURL":"%s","Username":"%s","Secret":"s3cret"}' "$url" "$NAME-$url";;`,
      `esac`,
      ``,
    ].join('\n');
    for (const name of ['one', 'store']) {
      const file = path.join(bin, `docker-credential-${name}`);
      await writeFile(file, script.replace('$NAME', name));
      await chmod(file, 0o755);
    }
    const env = { ...w.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    await w.write(path.join(w.home, '.docker/config.json'), {
      auths: { 'plain.io': auth('fromfile', 'x') },
      credHelpers: { 'helped.io': 'one', 'token.io': 'one', 'docker.io': 'one', 'nothing.io': 'one' },
      credsStore: 'store',
    });
    assert.deepEqual(await lookupCredentials('helped.io', 'a', { env }), {
      username: 'one-helped.io',
      password: 's3cret',
    });
    assert.deepEqual(await lookupCredentials('docker.io', 'library/x', { env }), {
      username: 'one-https://index.docker.io/v1/',
      password: 's3cret',
    });
    assert.deepEqual(await lookupCredentials('token.io', 'a', { env }), { identityToken: 'idtok' });
    assert.equal(await lookupCredentials('nothing.io', 'a', { env }), undefined);
    // auths entries come before the store; the store answers for everything else.
    assert.equal((await lookupCredentials('plain.io', 'a', { env }))?.username, 'fromfile');
    assert.deepEqual(await lookupCredentials('else.io', 'a', { env }), {
      username: 'store-else.io',
      password: 's3cret',
    });
    // A helper that is not installed is an AUTH error naming the helper, not the secret.
    await w.write(path.join(w.home, '.docker/config.json'), { credHelpers: { 'x.io': 'missing' } });
    await assert.rejects(
      lookupCredentials('x.io', 'a', { env }),
      (e: unknown) => e instanceof RechunkerError && e.code === 'AUTH' && /docker-credential-missing/.test(e.message),
    );
  });

  it('reports bad input as AUTH errors that do not echo secrets (a --creds without a password is a USAGE error)', async () => {
    const w = await world();
    await assert.rejects(
      lookupCredentials('reg.io', undefined, { creds: 'justuser' }),
      (e: unknown) => e instanceof RechunkerError && e.code === 'USAGE',
    );
    const f = await w.write(
      path.join(w.home, 'bad.json'),
      '{ "auths": { "reg.io": { "auth": "c2VjcmV0cGFzc3dvcmQ=" } }',
    ); // truncated JSON
    await assert.rejects(
      lookupCredentials('reg.io', undefined, { authfile: f }),
      (e: unknown) =>
        e instanceof RechunkerError && e.code === 'AUTH' && e.message.includes(f) && !e.message.includes('c2VjcmV0'),
    );
    const g = await w.write(path.join(w.home, 'nocolon.json'), {
      auths: { 'reg.io': { auth: Buffer.from('secretpassword').toString('base64') } },
    });
    await assert.rejects(
      lookupCredentials('reg.io', undefined, { authfile: g }),
      (e: unknown) => e instanceof RechunkerError && e.code === 'AUTH' && !e.message.includes('secretpassword'),
    );
    assert.equal(
      await lookupCredentials('reg.io', undefined, { authfile: path.join(w.home, 'absent.json') }),
      undefined,
    );
  });
});
