// A private containerd (Debian's containerd 1.6) for tests: its own root, state, socket and config
// (CRI off, the opt plugin kept out of /opt), driven with ctr in a namespace of its own. It pulls
// from the loopback registry over plain http and shows an image's merged tree as its overlayfs
// snapshotter stacks it: a read-only view of the image's chain, mounted privately.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { daemonSkipReason, removeDaemonDir, startDaemon, type Daemon } from './daemon-process.js';
import { mountLayers, type HeldMount } from './overlay-mount.js';
import { run } from './tools.js';

const NAMESPACE = 'rechunker-test';

/** Why a private containerd cannot run here, or undefined when it can. */
export function containerdSkipReason(): Promise<string | undefined> {
  return daemonSkipReason('containerd', 'ctr', 'containerd');
}

export class Containerd {
  private views = 0;
  private readonly held = new Set<HeldMount>();

  private constructor(
    readonly dir: string,
    readonly socket: string,
    private readonly daemon: Daemon,
  ) {}

  /** Starts containerd under a new temp dir of `parent` (overlay needs a real fs: not tmpfs). */
  static async start(parent = '/var/tmp'): Promise<Containerd> {
    const dir = await mkdtemp(path.join(parent, 'rechunker-ctd-'));
    const socket = path.join(dir, 'ctd.sock');
    const config = path.join(dir, 'config.toml');
    await mkdir(path.join(dir, 'opt'));
    await writeFile(
      config,
      [
        'version = 2',
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        `[ttrpc]\n  address = "${socket}.ttrpc"`,
        '[debug]\n  address = ""',
        '[metrics]\n  address = ""',
        `[plugins."io.containerd.internal.v1.opt"]\n  path = "${dir}/opt"`,
        '[plugins."io.containerd.monitor.v1.cgroups"]\n  no_prometheus = true',
        '',
      ].join('\n'),
    );
    const args = [
      '--config',
      config,
      '--root',
      path.join(dir, 'root'),
      '--state',
      path.join(dir, 'state'),
      '--address',
      socket,
    ];
    try {
      const ready = async () => (await run('ctr', ['--address', socket, 'version'], { timeoutMs: 5000 })).code === 0;
      const daemon = await startDaemon('containerd', args, path.join(dir, 'containerd.log'), ready);
      return new Containerd(dir, socket, daemon);
    } catch (err) {
      await removeDaemonDir(dir);
      throw err;
    }
  }

  /** Runs ctr against this daemon and namespace; throws with ctr's stderr on failure. */
  async ctr(args: readonly string[]): Promise<string> {
    const res = await run('ctr', ['--address', this.socket, '--namespace', NAMESPACE, ...args]);
    if (res.code !== 0) throw new Error(`ctr ${args.join(' ')} failed (exit ${res.code}): ${res.stderr.trim()}`);
    return res.stdout;
  }

  /** Pulls (and unpacks into the overlayfs snapshotter) `host/name:tag` over plain http. */
  async pull(ref: string): Promise<void> {
    await this.ctr(['images', 'pull', '--plain-http', ref]);
  }

  /** The image's chain id: the key of the snapshot holding its top layer. */
  async chainId(ref: string): Promise<string> {
    const list = await this.ctr(['images', 'ls']);
    const line = list.split('\n').find((l) => l.split(/\s+/)[0] === ref);
    const digest = line?.split(/\s+/)[2];
    if (!digest?.startsWith('sha256:')) throw new Error(`containerd has no image ${ref}`);
    const manifest = JSON.parse(await this.ctr(['content', 'get', digest])) as { config: { digest: string } };
    const config = JSON.parse(await this.ctr(['content', 'get', manifest.config.digest])) as {
      rootfs: { diff_ids: string[] };
    };
    return chainIdOf(config.rootfs.diff_ids);
  }

  /**
   * The merged tree of an image: a `ctr snapshots view` of its chain, whose mounts (printed by
   * ctr) are made in a private namespace. They name only the chain's committed layers, which the
   * image keeps; the view itself is not leased, so containerd's GC may drop it at any time.
   */
  async mount(ref: string, target: string): Promise<HeldMount> {
    const key = `rechunker-view-${++this.views}`;
    const mounts = JSON.parse(
      await this.ctr(['snapshots', 'view', '--mounts', key, await this.chainId(ref)]),
    ) as CtrMount[];
    const held = await mountLayers(layerDirsOf(mounts), target);
    this.held.add(held);
    return {
      root: held.root,
      release: async () => {
        this.held.delete(held);
        await held.release();
        await this.ctr(['snapshots', 'rm', key]).catch((e: unknown) => {
          if (!/not found/.test(String(e))) throw e;
        });
      },
    };
  }

  /** Releases every view, stops containerd, unmounts what it left and removes the dir. */
  async cleanup(): Promise<void> {
    for (const h of [...this.held]) await h.release().catch(() => {});
    await this.daemon.stop();
    await removeDaemonDir(this.dir);
  }
}

/** chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)) (image-spec). */
export function chainIdOf(diffIds: readonly string[]): string {
  let chain = diffIds[0]!;
  for (const d of diffIds.slice(1)) chain = `sha256:${createHash('sha256').update(`${chain} ${d}`).digest('hex')}`;
  return chain;
}

interface CtrMount {
  Type: string;
  Source: string;
  Options: string[];
}

/**
 * The layer directories, topmost first, of a view's mounts: overlay with a lowerdir list for a
 * chain of two or more layers, a bind mount of the one layer otherwise.
 */
export function layerDirsOf(mounts: readonly CtrMount[]): string[] {
  const m = mounts.length === 1 ? mounts[0]! : undefined;
  const lower = m?.Type === 'overlay' ? m.Options.find((o) => o.startsWith('lowerdir=')) : undefined;
  if (lower) return lower.slice('lowerdir='.length).split(':');
  if (m?.Type === 'bind') return [m.Source];
  throw new Error(`unexpected mounts from ctr: ${JSON.stringify(mounts)}`);
}
