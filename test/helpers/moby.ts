// A private moby (Debian's docker.io, dockerd 20.10, overlay2) for tests: its own data root, exec
// root, socket, pidfile and daemon.json, no bridge and no iptables, on a containerd the test
// started (./containerd.js). It pulls from the loopback registry and shows an image's merged tree
// as overlay2 stacks it: the kernel's overlayfs over the layers' diff dirs, named as moby names
// them (the l/ short links, relative to the overlay2 dir), mounted privately.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Containerd } from './containerd.js';
import { daemonSkipReason, removeDaemonDir, startDaemon, type Daemon } from './daemon-process.js';
import { mountLayers, type HeldMount } from './overlay-mount.js';
import { run } from './tools.js';

/** Why a private dockerd cannot run here, or undefined when it can. */
export function mobySkipReason(): Promise<string | undefined> {
  return daemonSkipReason('dockerd', 'docker', 'docker.io');
}

export interface MobyOptions {
  /** `host:port` registries moby may reach over plain http (the loopback registry). */
  insecureRegistries?: readonly string[];
  parent?: string;
}

export class Moby {
  private readonly held = new Set<HeldMount>();

  private constructor(
    readonly dir: string,
    readonly socket: string,
    private readonly daemon: Daemon,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get dataRoot(): string {
    return path.join(this.dir, 'data');
  }

  static async start(containerd: Containerd, opts: MobyOptions = {}): Promise<Moby> {
    const dir = await mkdtemp(path.join(opts.parent ?? '/var/tmp', 'rechunker-moby-'));
    const socket = path.join(dir, 'docker.sock');
    const config = path.join(dir, 'daemon.json');
    // Its own daemon.json: /etc/docker's would apply otherwise, and the trust key would go there.
    await writeFile(config, JSON.stringify({ 'deprecated-key-path': path.join(dir, 'key.json') }) + '\n');
    const args = [
      '--config-file',
      config,
      '--containerd',
      containerd.socket,
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '-H',
      `unix://${socket}`,
      '--pidfile',
      path.join(dir, 'docker.pid'),
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--storage-driver=overlay2',
      ...(opts.insecureRegistries ?? []).flatMap((r) => ['--insecure-registry', r]),
    ];
    // The client's own config dir: nothing of the user's ~/.docker is read or written.
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'client') };
    try {
      const ready = async () =>
        (await run('docker', ['version', '--format', '{{.Server.Version}}'], { env, timeoutMs: 5000 })).code === 0;
      const daemon = await startDaemon('dockerd', args, path.join(dir, 'dockerd.log'), ready, 60_000);
      return new Moby(dir, socket, daemon, env);
    } catch (err) {
      await removeDaemonDir(dir);
      throw err;
    }
  }

  /** Runs the docker client against this daemon; throws with its stderr on failure. */
  async docker(args: readonly string[]): Promise<string> {
    const res = await run('docker', args, { env: this.env });
    if (res.code !== 0) throw new Error(`docker ${args.join(' ')} failed (exit ${res.code}): ${res.stderr.trim()}`);
    return res.stdout;
  }

  async pull(ref: string): Promise<void> {
    await this.docker(['pull', '-q', ref]);
  }

  /** The image's layer dirs as overlay2 names them (l/LINK), topmost first, relative to overlay2/. */
  async layerLinks(ref: string): Promise<string[]> {
    const data = JSON.parse(await this.docker(['image', 'inspect', '--format', '{{json .GraphDriver}}', ref])) as {
      Name: string;
      Data: { UpperDir?: string };
    };
    if (data.Name !== 'overlay2' || !data.Data.UpperDir)
      throw new Error(`moby stores ${ref} with ${data.Name}, not overlay2`);
    const top = path.dirname(data.Data.UpperDir);
    const link = (await readFile(path.join(top, 'link'), 'utf8')).trim();
    const lower = await readFile(path.join(top, 'lower'), 'utf8').then(
      (s) => s.trim(),
      () => '',
    );
    return [`l/${link}`, ...(lower ? lower.split(':') : [])];
  }

  /** The merged tree of an image: its layers stacked by the kernel's overlayfs, read-only. */
  async mount(ref: string, target: string): Promise<HeldMount> {
    const held = await mountLayers(await this.layerLinks(ref), target, path.join(this.dataRoot, 'overlay2'));
    this.held.add(held);
    return {
      root: held.root,
      release: async () => {
        this.held.delete(held);
        await held.release();
      },
    };
  }

  /** Releases every mount, stops dockerd, unmounts what it left under its dirs and removes them. */
  async cleanup(): Promise<void> {
    for (const h of [...this.held]) await h.release().catch(() => {});
    await this.daemon.stop();
    await removeDaemonDir(this.dir);
  }
}
