// The kernel's overlayfs over a runtime's own layer directories, mounted read-only in a private
// mount namespace: a process of its own (unshare -m, then sleep) holds the mount, and the tree is
// read through /proc/PID/root. Nothing is ever mounted in the test's namespace, so nothing can be
// left mounted there: the holder exits when its stdin closes (release(), or the test process
// dying), and the namespace and the mount go with it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export interface HeldMount {
  /** The merged tree, as seen from the test's namespace (through /proc/PID/root). */
  root: string;
  release(): Promise<void>;
}

// The mount(2) data of a classic overlay mount is one page: 64 absolute lowerdirs exceed it.
// As moby and containerd do, the layers are named relative to a directory the mount runs in.
const PAGE = 4096;

const HOLDER = [
  'cd "$1" || exit 1',
  'mkdir -p "$3" || exit 1',
  // One layer is no overlay: a read-only bind mount of it shows it the same.
  'case "$2" in',
  '  *:*) mount -t overlay overlay -o "ro,lowerdir=$2" "$3" || exit 1;;',
  '  *) mount --bind -o ro "$2" "$3" || exit 1;;',
  'esac',
  'echo mounted',
  'read _x',
].join('\n');

/**
 * Mounts `lowers` (topmost first, as overlayfs's lowerdir lists them) at `target` in a private
 * namespace. Paths may be relative to `cwd`; absolute ones are made relative to their common parent.
 */
export async function mountLayers(lowers: readonly string[], target: string, cwd?: string): Promise<HeldMount> {
  if (lowers.length === 0) throw new Error('mountLayers: no layers');
  let dir = cwd ?? '/';
  let names = [...lowers];
  if (lowers.every((l) => path.isAbsolute(l))) {
    dir = commonParent(lowers);
    names = lowers.map((l) => path.relative(dir, l));
  }
  const option = names.join(':');
  if (option.length + 40 > PAGE)
    throw new Error(`mountLayers: lowerdir option of ${option.length} bytes exceeds a page`);
  if (names.some((n) => n.includes(':') || n.includes(',')))
    throw new Error(`mountLayers: a layer path holds ':' or ','`);
  const child = spawn(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', HOLDER, 'holder', dir, option, target],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const ready = await new Promise<string | undefined>((resolve) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('mounted')) resolve(undefined);
    });
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code) => resolve(`mount holder exited (${code}): ${err.trim()}`));
    child.once('error', (e) => resolve(String(e)));
  });
  if (ready !== undefined) throw new Error(`mountLayers ${target}: ${ready}`);
  return { root: `/proc/${child.pid}/root${path.resolve(target)}`, release: () => close(child) };
}

function commonParent(paths: readonly string[]): string {
  let parts = path.dirname(paths[0]!).split('/');
  for (const p of paths.slice(1)) {
    const q = path.dirname(p).split('/');
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join('/') || '/';
}

function close(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.stdin!.end();
  });
}
