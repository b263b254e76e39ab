// Starts a real registry for tests: Debian's docker-registry (CNCF distribution 2.8) on a free
// 127.0.0.1 port, with storage and configuration in a temp dir of its own, in one of three auth
// modes: none, htpasswd (Basic) or token (a token server from ./token-server.js). stop() kills
// the process and waits for it; a process-exit hook kills any registry a crashed test left.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export type RegistryAuth = 'none' | 'htpasswd' | 'token';

export interface RegistryServerOptions {
  auth?: RegistryAuth;
  /** Users for htpasswd and token modes (default { tester: 'secret-pw' }). */
  users?: Record<string, string>;
  token?: Omit<TokenServerOptions, 'users'>;
  /** Serve https only, with a self-signed certificate for 127.0.0.1 made here. */
  tls?: boolean;
  /** `http.relativeurls`: upload Locations without scheme and host. */
  relativeUrls?: boolean;
}

export interface RegistryServer {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  dir: string;
  users: Record<string, string>;
  token?: TokenServer;
  stop(): Promise<void>;
}

const GUARD =
  'exec 3<&0; "$0" serve "$1" 3<&- </dev/null & pid=$!; echo "$pid"; (read _x <&3; kill "$pid" 2>/dev/null) & wait "$pid"';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.stdin?.destroy();
});

export function registryAvailable(): boolean {
  return existsSync(REGISTRY_BINARY);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** bcrypt lines for distribution's htpasswd: `htpasswd -Bbn` (apache2-utils), else python3's crypt. */
function htpasswdLine(user: string, password: string): string {
  try {
    return execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }).trim();
  } catch {
    const script =
      'import crypt,sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))';
    return execFileSync('python3', ['-W', 'ignore', '-c', script, user, password], { encoding: 'utf8' }).trim();
  }
}

function ping(port: number, tls: boolean): Promise<number> {
  return new Promise((resolve) => {
    const get = tls ? https.get : http.get;
    const req = get(
      { host: '127.0.0.1', port, path: '/v2/', agent: false, timeout: 1000, rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/** Close the guard's stdin (it then kills the registry) and wait for the registry to exit. */
function stopChild(child: ChildProcess, pid: () => number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    child.stdin?.destroy();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        if (pid() > 0) process.kill(pid(), 'SIGKILL');
      } catch {
        // already gone
      }
    }, 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
  });
}

export async function startRegistry(opts: RegistryServerOptions = {}): Promise<RegistryServer> {
  const auth = opts.auth ?? 'none';
  const users = opts.users ?? { tester: 'secret-pw' };
  const dir = await mkdtemp(path.join(tmpdir(), 'rechunker-registry-'));
  let token: TokenServer | undefined;
  let authYaml = '';
  if (auth === 'htpasswd') {
    const file = path.join(dir, 'htpasswd');
    await writeFile(
      file,
      Object.entries(users)
        .map(([u, p]) => htpasswdLine(u, p))
        .join('\n') + '\n',
    );
    authYaml = `auth:\n  htpasswd:\n    realm: rechunker-test\n    path: ${file}\n`;
  } else if (auth === 'token') {
    token = await startTokenServer(dir, { ...(opts.token ?? {}), users });
    authYaml = [
      'auth:',
      '  token:',
      `    realm: ${token.realm}`,
      `    service: ${token.service}`,
      `    issuer: ${token.issuer}`,
      `    rootcertbundle: ${token.certPath}`,
      '',
    ].join('\n');
  }
  let tlsYaml = '';
  if (opts.tls) {
    const key = path.join(dir, 'tls.key');
    const cert = path.join(dir, 'tls.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    tlsYaml = `  tls:\n    certificate: ${cert}\n    key: ${key}`;
  }
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort();
    const config = path.join(dir, 'config.yml');
    await writeFile(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: error',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${path.join(dir, 'storage')}`,
        '  delete:',
        '    enabled: true',
        '  maintenance:',
        '    uploadpurging:',
        '      enabled: false',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        `  secret: ${randomBytes(16).toString('hex')}`,
        `  relativeurls: ${opts.relativeUrls === true}`,
        tlsYaml,
        authYaml,
      ].join('\n'),
    );
    // Through a small shell guard: the registry is killed when our end of its stdin closes, so
    // it goes away even when the test process is killed without running exit hooks.
    const child = spawn('/bin/sh', ['-c', GUARD, REGISTRY_BINARY, config], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    let stderr = '';
    let pid = 0;
    child.stdout!.on('data', (b: Buffer) => {
      pid ||= Number.parseInt(b.toString('utf8'), 10) || 0;
    });
    child.stderr!.on('data', (b: Buffer) => {
      if (stderr.length < 8192) stderr += b.toString('utf8');
    });
    child.stdin!.on('error', () => {});
    child.once('exit', () => live.delete(child));
    const deadline = Date.now() + 10_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      const status = await ping(port, opts.tls === true);
      if (status === 200 || status === 401) {
        up = true;
        break;
      }
      await sleep(50);
    }
    if (up) {
      return {
        host: `127.0.0.1:${port}`,
        port,
        dir,
        users,
        ...(token ? { token } : {}),
        async stop() {
          await stopChild(child, () => pid);
          await token?.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child, () => pid);
    if (!/address already in use/i.test(stderr)) {
      await token?.stop();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start: ${stderr.trim().slice(0, 2000)}`);
    }
  }
  await token?.stop();
  throw new Error('docker-registry: no free port after 5 tries');
}
