import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { RechunkerError } from '../errors.js';

/**
 * Registry credentials, found where containers/image (podman, skopeo, buildah) looks for them:
 *
 *  1. `--creds USER:PASS`
 *  2. `--authfile FILE`, or else `$REGISTRY_AUTH_FILE`: when given, that file is the only one read
 *     (containers/image treats a user-specified auth file as replacing the default chain)
 *  3. `$XDG_RUNTIME_DIR/containers/auth.json` (`/run/containers/$UID/auth.json` without it)
 *  4. `$XDG_CONFIG_HOME/containers/auth.json` (`~/.config/containers/auth.json`)
 *  5. `$DOCKER_CONFIG/config.json`, or else `~/.docker/config.json`
 *  6. `~/.dockercfg` (the legacy format: the `auths` map at the top level)
 *
 * Within one file: `credHelpers[registry]` (a `docker-credential-NAME` program), then `auths`
 * keys from the most specific (`host/ns/repo`, `host/ns`, `host`) to URL-style keys such as
 * `https://index.docker.io/v1/`, then `credsStore`. The first file that has an answer wins.
 *
 * Secrets are returned to the caller only; nothing here prints or logs them.
 */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken`), exchanged for access tokens at the realm. */
  identityToken?: string;
}

export interface CredentialOptions {
  /** `USER:PASS` as given to --creds. */
  creds?: string;
  /** --authfile */
  authfile?: string;
  /** Environment to read (default process.env); tests inject their own. */
  env?: NodeJS.ProcessEnv;
  /** Home directory (default os.homedir(), or env.HOME when env is given). */
  home?: string;
  /** Where a credential helper may take at most (ms). */
  helperTimeoutMs?: number;
}

interface AuthFile {
  path: string;
  legacy: boolean;
}

interface AuthFileContent {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Parse `USER:PASS` (the password may itself contain colons). */
export function parseCredsFlag(creds: string): RegistryCredentials {
  const i = creds.indexOf(':');
  if (i <= 0) throw new RechunkerError('USAGE', '--creds takes USER:PASSWORD (no password was given)');
  return { username: creds.slice(0, i), password: creds.slice(i + 1) };
}

/** The auth files to read, in order (see the module comment). */
export function authFilePaths(opts: CredentialOptions = {}): AuthFile[] {
  const env = opts.env ?? process.env;
  const home = opts.home ?? (opts.env ? opts.env.HOME : undefined) ?? homedir();
  const given = opts.authfile ?? env.REGISTRY_AUTH_FILE;
  if (given) return [{ path: given, legacy: false }];
  const files: AuthFile[] = [];
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime) files.push({ path: path.join(runtime, 'containers', 'auth.json'), legacy: false });
  else if (process.getuid) files.push({ path: `/run/containers/${process.getuid()}/auth.json`, legacy: false });
  const configHome = env.XDG_CONFIG_HOME || path.join(home, '.config');
  files.push({ path: path.join(configHome, 'containers', 'auth.json'), legacy: false });
  files.push({
    path: env.DOCKER_CONFIG ? path.join(env.DOCKER_CONFIG, 'config.json') : path.join(home, '.docker', 'config.json'),
    legacy: false,
  });
  files.push({ path: path.join(home, '.dockercfg'), legacy: true });
  return files;
}

/** docker.io's aliases all mean docker.io. */
function normalizeRegistry(host: string): string {
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** `https://index.docker.io/v1/` -> `docker.io`; `quay.io/ns` stays `quay.io/ns`. */
export function normalizeAuthKey(key: string): string {
  let k = key;
  const m = /^https?:\/\//.exec(k);
  if (m) {
    k = k.slice(m[0].length);
    const slash = k.indexOf('/');
    if (slash >= 0) k = k.slice(0, slash);
  }
  const slash = k.indexOf('/');
  const host = slash >= 0 ? k.slice(0, slash) : k;
  return normalizeRegistry(host) + (slash >= 0 ? k.slice(slash) : '');
}

/** `host/a/b` -> [`host/a/b`, `host/a`, `host`]. */
function keysFor(registry: string, repository: string | undefined): string[] {
  const keys: string[] = [];
  if (repository) {
    const parts = repository.split('/');
    for (let n = parts.length; n > 0; n--) keys.push(`${registry}/${parts.slice(0, n).join('/')}`);
  }
  keys.push(registry);
  return keys;
}

function decodeEntry(
  entry: { auth?: string; username?: string; password?: string; identitytoken?: string },
  file: string,
  key: string,
): RegistryCredentials | undefined {
  const out: RegistryCredentials = {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw new RechunkerError('AUTH', `${file}: the "auth" entry for ${key} is not base64 of USER:PASS`);
    out.username = decoded.slice(0, i);
    out.password = decoded.slice(i + 1);
  } else if (entry.username !== undefined && entry.password !== undefined) {
    out.username = entry.username;
    out.password = entry.password;
  }
  if (entry.identitytoken) out.identityToken = entry.identitytoken;
  return out.username !== undefined || out.identityToken !== undefined ? out : undefined;
}

async function readAuthFile(file: AuthFile): Promise<AuthFileContent | undefined> {
  let text: string;
  try {
    text = await readFile(file.path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return undefined;
    throw new RechunkerError('AUTH', `cannot read auth file ${file.path}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new RechunkerError('AUTH', `auth file ${file.path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new RechunkerError('AUTH', `auth file ${file.path} is not a JSON object`);
  return file.legacy ? { auths: parsed as AuthFileContent['auths'] } : (parsed as AuthFileContent);
}

/** Run `docker-credential-NAME get` with the server URL on stdin, as the docker CLI does. */
export function runCredentialHelper(
  name: string,
  serverUrl: string,
  opts: CredentialOptions = {},
): Promise<RegistryCredentials | undefined> {
  const env = opts.env ?? process.env;
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.helperTimeoutMs ?? 30_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(
        new RechunkerError(
          'AUTH',
          `credential helper ${program} could not be run for ${serverUrl}: ${(e as NodeJS.ErrnoException).code ?? e.message}`,
        ),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8').trim();
      if (code !== 0) {
        // The helpers' way of saying "nothing stored for this server".
        if (/credentials not found/i.test(stdout + Buffer.concat(err).toString('utf8'))) return resolve(undefined);
        // Helper output may echo secrets: report the exit status only.
        return reject(
          new RechunkerError('AUTH', `credential helper ${program} failed for ${serverUrl} (exit status ${code})`),
        );
      }
      let parsed: { Username?: string; Secret?: string };
      try {
        parsed = JSON.parse(stdout) as { Username?: string; Secret?: string };
      } catch {
        return reject(
          new RechunkerError(
            'AUTH',
            `credential helper ${program} printed something that is not JSON for ${serverUrl}`,
          ),
        );
      }
      if (!parsed.Secret) return resolve(undefined);
      if (parsed.Username === '<token>') return resolve({ identityToken: parsed.Secret });
      resolve({ username: parsed.Username ?? '', password: parsed.Secret });
    });
    child.stdin.end(serverUrl);
  });
}

/** The server URL a helper is asked about: Docker Hub under its historical URL, else the host. */
function helperServerUrl(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

function helperFor(helpers: Record<string, string> | undefined, registry: string): string | undefined {
  if (!helpers) return undefined;
  if (helpers[registry]) return helpers[registry];
  for (const [key, helper] of Object.entries(helpers)) if (normalizeAuthKey(key) === registry) return helper;
  return undefined;
}

async function fromFile(
  content: AuthFileContent,
  file: AuthFile,
  registry: string,
  repository: string | undefined,
  opts: CredentialOptions,
): Promise<RegistryCredentials | undefined> {
  const helper = helperFor(content.credHelpers, registry);
  if (helper) return runCredentialHelper(helper, helperServerUrl(registry), opts);
  const auths = content.auths ?? {};
  const keys = file.legacy ? [registry] : keysFor(registry, repository);
  for (const key of keys) {
    const entry = auths[key];
    if (entry) {
      const creds = decodeEntry(entry, file.path, key);
      if (creds) return creds;
    }
  }
  // URL-style and alias keys (`https://index.docker.io/v1/`, `http://host:5000`), most specific first.
  const normalized = Object.entries(auths).map(([key, entry]) => ({ key, norm: normalizeAuthKey(key), entry }));
  for (const want of keys) {
    for (const { key, norm, entry } of normalized) {
      if (norm === want && entry) {
        const creds = decodeEntry(entry, file.path, key);
        if (creds) return creds;
      }
    }
  }
  if (content.credsStore) return runCredentialHelper(content.credsStore, helperServerUrl(registry), opts);
  return undefined;
}

/**
 * Credentials for a registry (`host[:port]`, docker.io for Docker Hub) and optionally a
 * repository (for `host/ns/repo` keys). Undefined means anonymous.
 */
export async function lookupCredentials(
  registry: string,
  repository: string | undefined,
  opts: CredentialOptions = {},
): Promise<RegistryCredentials | undefined> {
  if (opts.creds !== undefined) return parseCredsFlag(opts.creds);
  const host = normalizeRegistry(registry);
  for (const file of authFilePaths(opts)) {
    const content = await readAuthFile(file);
    if (!content) continue;
    const creds = await fromFile(content, file, host, repository, opts);
    if (creds) return creds;
  }
  return undefined;
}
