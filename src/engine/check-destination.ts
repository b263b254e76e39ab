import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { RechunkerError } from '../errors.js';
import type { ImageSource } from '../oci/transport.js';
import type { Platform } from '../oci/types.js';
import type { TreeSource } from '../graph/tree-source.js';
import { parseReference } from '../ref/image-reference.js';
import { formatBytes } from '../util/format-bytes.js';
import { defaultWorkParent } from '../util/work-dir.js';
import { registryOptions, type TransportOptions } from './registry-access.js';

/**
 * Before any layer is read: can the destination be written at all? A run that repacks for minutes
 * and then meets a refusing registry or a read-only directory has wasted them. Nothing is written:
 * the registry gets a blob upload started and cancelled (registry/push-probe.ts), a directory an
 * access(2) check on it or on the nearest parent that exists.
 */

/** Probe requests give up quickly: an unreachable registry must fail in the first seconds. */
const PROBE_TIMEOUT_MS = 1500;

async function nearestExisting(p: string): Promise<string> {
  for (let dir = path.resolve(p); ; dir = path.dirname(dir)) {
    try {
      await fs.lstat(dir);
      return dir;
    } catch {
      if (dir === path.dirname(dir)) return dir;
    }
  }
}

async function writable(ref: string, p: string, what: string): Promise<void> {
  const at = await nearestExisting(p);
  try {
    await fs.access(at, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new RechunkerError('IO', `${ref}: ${what} ${at} is not writable (${code})`, { cause: e });
  }
  const st = await fs.stat(at);
  if (at === path.resolve(p) && what === 'the layout directory' && !st.isDirectory()) {
    throw new RechunkerError('IO', `${ref}: ${at} exists and is not a directory`);
  }
}

function hasCommand(cmd: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(cmd, ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

export async function checkDestination(text: string, opts: TransportOptions = {}): Promise<void> {
  const ref = parseReference(text);
  switch (ref.transport) {
    case 'oci':
      return writable(text, ref.dir, 'the layout directory');
    case 'oci-archive':
      if (ref.file === '-') return;
      return writable(text, path.dirname(path.resolve(ref.file)), 'the directory of the archive,');
    case 'containers-storage': {
      if (!(await hasCommand('skopeo')))
        throw new RechunkerError(
          'UNSUPPORTED',
          `${text}: writing into containers-storage needs skopeo, which is not installed`,
        );
      if (ref.store) await writable(text, ref.store.root, 'the store');
      return;
    }
    case 'docker': {
      const [{ RegistryClient, parseDockerReference }, { probePush }] = await Promise.all([
        import('../registry/index.js'),
        import('../registry/push-probe.js'),
      ]);
      const dref = parseDockerReference(ref.rest);
      const client = new RegistryClient(dref.registry, {
        ...registryOptions(opts, 'dest'),
        retry: { attempts: 1 },
        timeoutMs: PROBE_TIMEOUT_MS,
      });
      try {
        await probePush(client, dref.repository);
      } finally {
        client.close();
      }
      return;
    }
    default:
      return;
  }
}

/** Compressed layers hold about a third of what they unpack to (gzip on an OS tree, measured on the corpus: 2.5x). */
const UNPACK_FACTOR = 3;

/**
 * Does the work directory have room for the unpacked image? Estimated from the manifest (a
 * resolve, no layer read): uncompressed layers count as they are, compressed ones three times.
 * A tree source has no cheap estimate and is not checked.
 */
export async function checkWorkRoom(
  source: ImageSource | TreeSource,
  platform: Platform,
  workDir: string | undefined,
): Promise<void> {
  if (source.kind !== 'image') return;
  const image = await source.resolve(platform);
  const need = image.manifest.layers.reduce(
    (n, l) => n + l.size * (/tar$/.test(l.mediaType ?? '') ? 1 : UNPACK_FACTOR),
    0,
  );
  const dir = workDir ?? defaultWorkParent();
  let free: number;
  try {
    const st = await fs.statfs(await nearestExisting(dir));
    free = st.bavail * st.bsize;
  } catch {
    return;
  }
  if (free < need) {
    throw new RechunkerError(
      'IO',
      `work directory ${dir}: ${formatBytes(free)} free, about ${formatBytes(need)} needed to unpack ${source.name}; choose another with --work-dir`,
    );
  }
}
