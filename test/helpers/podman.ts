// podman as root with the overlay driver, confined to storage of the test's own: the merged tree
// it mounts is what a real overlay runtime shows, and the user's images are never touched.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { run } from './tools.js';

export class Podman {
  private readonly mounted = new Set<string>();
  private cleaned = false;

  private constructor(
    /** the temp dir holding storage, run state and config of this instance */
    readonly dir: string,
    /** the environment that points podman (and buildah) at this instance's config files */
    readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Creates the private storage under `parent` (default /var/tmp: overlay needs a real fs, not tmpfs). */
  static async create(parent = '/var/tmp', storageConfExtra = ''): Promise<Podman> {
    const dir = await mkdtemp(path.join(parent, 'rechunker-test-podman-'));
    // Own config files too: the flags alone leave the system storage.conf free to add
    // additionalimagestores or a mount_program, and podman's tmp dir and events in /run shared.
    const storageConf = path.join(dir, 'storage.conf');
    const containersConf = path.join(dir, 'containers.conf');
    await writeFile(
      storageConf,
      `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n${storageConfExtra}`,
    );
    await writeFile(
      containersConf,
      `[network]\nnetwork_config_dir = "${dir}/net"\n[engine]\ntmp_dir = "${dir}/tmp"\nevents_logger = "none"\n`,
    );
    const env = { ...process.env, CONTAINERS_STORAGE_CONF: storageConf, CONTAINERS_CONF: containersConf };
    return new Podman(dir, env);
  }

  /** Runs podman against this storage; throws with podman's stderr on failure. */
  async podman(args: readonly string[]): Promise<string> {
    const full = [
      '--storage-driver=overlay',
      '--root',
      path.join(this.dir, 'root'),
      '--runroot',
      path.join(this.dir, 'run'),
      '--tmpdir',
      path.join(this.dir, 'tmp'),
      ...args,
    ];
    const res = await run('podman', full, { env: this.env });
    if (res.code !== 0) throw new Error(`podman ${args.join(' ')} failed (exit ${res.code}): ${res.stderr.trim()}`);
    return res.stdout;
  }

  /** Pulls a reference in podman's syntax (e.g. `oci:/var/tmp/x:tag`); returns the image id. */
  async pull(ref: string): Promise<string> {
    const out = (await this.podman(['pull', '-q', ref])).trim().split('\n');
    const id = out[out.length - 1]?.trim();
    if (!id || !/^[0-9a-f]{64}$/.test(id))
      throw new Error(`podman pull ${ref}: unexpected output ${JSON.stringify(out)}`);
    return id;
  }

  /** Mounts an image through overlayfs; returns the merged directory. */
  async mount(id: string): Promise<string> {
    const dir = (await this.podman(['image', 'mount', id])).trim();
    if (!dir.startsWith('/')) throw new Error(`podman image mount ${id}: unexpected output ${JSON.stringify(dir)}`);
    this.mounted.add(id);
    return dir;
  }

  async unmount(id: string): Promise<void> {
    await this.podman(['image', 'unmount', id]);
    this.mounted.delete(id);
  }

  /**
   * Unmounts everything and deletes the temp dir. Not `podman system reset`: as root it also
   * deletes networks from the system's network config dir. Safe to call twice or after a failure.
   */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    const errors: string[] = [];
    for (const id of [...this.mounted]) {
      await this.unmount(id).catch((e: unknown) => errors.push(String(e)));
    }
    await this.podman(['image', 'unmount', '--all', '--force']).catch((e: unknown) => errors.push(String(e)));
    // Whatever is still mounted under the dir (a failed unmount, containers/storage's own mounts)
    // must go before rm -rf, or the removal would reach into a mounted tree.
    for (const mnt of await mountsUnder(this.dir)) {
      const res = await run('umount', ['-l', mnt]);
      if (res.code !== 0) errors.push(`umount ${mnt}: ${res.stderr.trim()}`);
    }
    const left = await mountsUnder(this.dir);
    if (left.length > 0)
      throw new Error(`podman cleanup: still mounted, ${this.dir} kept: ${left.join(', ')}; ${errors.join('; ')}`);
    await rm(this.dir, { recursive: true, force: true });
    if (errors.length > 0) throw new Error(`podman cleanup: ${errors.join('; ')}`);
  }
}

/** Mount points at or below dir, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .filter(Boolean)
    // field 5 is the mount point, with space, tab, newline and backslash as octal escapes
    .map((l) => l.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}
