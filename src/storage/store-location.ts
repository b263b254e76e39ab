import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where containers/storage keeps images when a reference names no store: storage.conf, then its defaults. */
export interface StoreLocation {
  driver: string;
  root: string;
  runroot: string;
}

function setting(conf: string, key: string): string | undefined {
  const m = new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`, 'm').exec(conf);
  return m?.[1] || undefined;
}

/**
 * $CONTAINERS_STORAGE_CONF, else storage.conf in the user's config (rootless) or /etc/containers,
 * read for `driver`, `graphroot` and `runroot` (rootless_storage_path for a user), as podman does.
 */
export async function defaultStoreLocation(env: NodeJS.ProcessEnv = process.env): Promise<StoreLocation> {
  const rootless = process.getuid?.() !== 0;
  const home = env.HOME ?? os.homedir();
  const userConf = path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'containers', 'storage.conf');
  const files = env.CONTAINERS_STORAGE_CONF
    ? [env.CONTAINERS_STORAGE_CONF]
    : rootless
      ? [userConf, '/etc/containers/storage.conf']
      : ['/etc/containers/storage.conf'];
  let conf = '';
  for (const f of files) {
    conf = await fs.readFile(f, 'utf8').catch(() => '');
    if (conf) break;
  }
  const uid = process.getuid?.() ?? 0;
  const root = rootless
    ? (setting(conf, 'rootless_storage_path') ??
      path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'containers', 'storage'))
    : (setting(conf, 'graphroot') ?? '/var/lib/containers/storage');
  const runroot = rootless
    ? path.join(env.XDG_RUNTIME_DIR ?? `/run/user/${uid}`, 'containers')
    : (setting(conf, 'runroot') ?? '/run/containers/storage');
  return { driver: setting(conf, 'driver') ?? 'overlay', root, runroot };
}
