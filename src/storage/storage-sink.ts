import { spawn } from 'node:child_process';
import { RechunkerError } from '../errors.js';
import { StagedSink } from '../oci/staged-sink.js';
import type { ImageSink } from '../oci/transport.js';

/**
 * `containers-storage:...` as a destination: the image is written into a private OCI layout (the
 * `staging` sink, which the engine makes) and, once complete, handed to containers/storage by
 * `skopeo copy oci:STAGING:TAG containers-storage:REF`.
 *
 * Why skopeo, not writing the store ourselves: a store is shared with podman and buildah, guarded
 * by their lock files, and its records (layers.json with uid/gid sets and compressed digests,
 * tar-split files, images.json's big data and names) follow containers/storage's version; an
 * imitation that is wrong in one field corrupts the user's store for every tool. skopeo goes
 * through containers/storage itself, takes its locks, verifies every diff_id, and takes the same
 * reference spelling we do ([DRIVER@ROOT+RUNROOT]IMAGE), so the store and the name are exactly
 * the ones asked for. Not `podman load`: it wants an archive (one more copy of every layer) and
 * spells the store as global flags.
 */
export function storageSink(
  name: string,
  staging: ImageSink,
  /** `oci:DIR:TAG` of the staging layout. */
  stagingRef: string,
  /** The destination as skopeo spells it, `containers-storage:...`. */
  target: string,
  cleanup: () => Promise<void>,
  skopeo = 'skopeo',
): ImageSink {
  const deliver = () => runSkopeo(skopeo, ['copy', '--quiet', stagingRef, target], name);
  return new StagedSink(name, staging, deliver, cleanup);
}

function runSkopeo(cmd: string, args: string[], where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'ENOENT' ? `${cmd} is not installed (it writes into containers-storage; install skopeo)` : e.message;
      reject(new RechunkerError('UNSUPPORTED', `${where}: ${why}`, { cause: e }));
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new RechunkerError(
            'IO',
            `${where}: skopeo copy into the store failed (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`,
          ),
        );
    });
  });
}
