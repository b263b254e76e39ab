import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { RechunkerError } from '../errors.js';
import type { ImageSink } from '../oci/transport.js';
import type { Descriptor } from '../oci/types.js';

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
export class StorageSink implements ImageSink {
  constructor(
    readonly name: string,
    private readonly staging: ImageSink,
    /** `oci:DIR:TAG` of the staging layout. */
    private readonly stagingRef: string,
    /** The destination as skopeo spells it, `containers-storage:...`. */
    private readonly target: string,
    private readonly cleanup: () => Promise<void>,
    private readonly skopeo = 'skopeo',
  ) {}

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.staging.hasBlob(desc);
  }

  putBlob(desc: Descriptor, open: () => Promise<Readable>): ReturnType<ImageSink['putBlob']> {
    return this.staging.putBlob(desc, open);
  }

  async adoptFile(file: string, desc: Descriptor): Promise<Awaited<ReturnType<ImageSink['putBlob']>>> {
    if (this.staging.adoptFile) return this.staging.adoptFile(file, desc);
    else throw new RechunkerError('UNSUPPORTED', `${this.name}: the staging layout cannot adopt files`);
  }

  async putManifest(bytes: Buffer, mediaType: string, digest: string, opts?: { child?: boolean }): Promise<void> {
    await this.staging.putManifest(bytes, mediaType, digest, opts);
    if (opts?.child) return;
    await runSkopeo(this.skopeo, ['copy', '--quiet', this.stagingRef, this.target], this.name);
  }

  async close(): Promise<void> {
    await this.staging.close();
    await this.cleanup();
  }
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
