import path from 'node:path';
import type { ArchiveSink as ArchiveSinkType } from '../archive/archive-sink.js';
import { RechunkerError } from '../errors.js';
import { parseReference, type Reference } from '../ref/image-reference.js';
import type { TreeSource } from '../graph/tree-source.js';
import type { ImageSink, ImageSource } from '../oci/transport.js';
import { registryOptions, type TransportOptions } from './registry-access.js';
import { checkedPlatform } from './checked-platform.js';

export type { TransportOptions } from './registry-access.js';

function unsupported(ref: Reference, role: string): never {
  throw new RechunkerError(
    'UNSUPPORTED',
    `${ref.text}: the ${ref.transport} transport is not supported as a ${role} yet`,
  );
}

// Each transport's code is loaded when a reference names it: a copy between a layout and a
// registry never loads the archive (tar, zstd) or rootfs (xattr) code, and starts sooner.

/**
 * The one place that maps a reference's transport to the code that reads it: an image (layers
 * to open) or a tree (a directory that fills the file graph itself).
 */
export async function openSource(text: string, opts: TransportOptions = {}): Promise<ImageSource | TreeSource> {
  const source = await openBackend(text, opts);
  return source.kind === 'image' && opts.platformRequested ? checkedPlatform(source) : source;
}

async function openBackend(text: string, opts: TransportOptions): Promise<ImageSource | TreeSource> {
  const ref = parseReference(text);
  switch (ref.transport) {
    case 'oci': {
      const { LayoutSource } = await import('../layout/layout-source.js');
      return new LayoutSource(text, ref.dir, ref.tag, ref.digest);
    }
    case 'docker': {
      const { RegistrySource } = await import('../registry/index.js');
      return new RegistrySource(ref.rest, registryOptions(opts, 'src'));
    }
    case 'oci-archive': {
      const { ArchiveSource } = await import('../archive/archive-source.js');
      return new ArchiveSource(text, ref.file, ref.tag, opts.workDir);
    }
    case 'rootfs': {
      const { RootfsSource } = await import('../rootfs/rootfs-source.js');
      return new RootfsSource(text, ref.dir);
    }
    case 'containers-storage': {
      const { StorageSource } = await import('../storage/storage-source.js');
      const store = ref.store ?? (await (await import('../storage/store-location.js')).defaultStoreLocation());
      return new StorageSource(text, store.root, ref.image, store.driver ?? 'overlay');
    }
    default:
      return unsupported(ref, 'source');
  }
}

/** A source that must have blobs and a manifest to hand on as they are (copy). */
export async function openImageSource(text: string, opts: TransportOptions = {}): Promise<ImageSource> {
  const source = await openSource(text, opts);
  if (source.kind === 'image') return source;
  await source.close();
  throw new RechunkerError(
    'USAGE',
    `${text}: a directory has no layers to copy; make an image of it with \`rechunker rechunk ${text} DESTINATION\``,
  );
}

/** The one place that maps a reference's transport to the code that writes it. */
export async function openSink(text: string, opts: TransportOptions = {}): Promise<ImageSink> {
  const ref = parseReference(text);
  switch (ref.transport) {
    case 'oci': {
      if (ref.digest) throw new RechunkerError('BAD_REFERENCE', `${text}: a destination takes a tag, not a digest`);
      const { LayoutSink } = await import('../layout/layout-sink.js');
      return new LayoutSink(text, ref.dir, ref.tag);
    }
    case 'docker': {
      const { RegistrySink, parseDockerReference } = await import('../registry/index.js');
      // A parsed reference, not the text: the sink mounts only from the same registry, and by repository.
      const from = opts.mountFrom?.startsWith('docker://')
        ? parseDockerReference(opts.mountFrom.slice('docker://'.length))
        : undefined;
      return new RegistrySink(ref.rest, { ...registryOptions(opts, 'dest'), ...(from ? { mountFrom: from } : {}) });
    }
    case 'oci-archive': {
      const { ArchiveSink } = await import('../archive/archive-sink.js');
      if (ref.file === '-') return stdoutArchive(text, ref.tag, ArchiveSink);
      return new ArchiveSink(text, ref.file, ref.tag, opts.workDir);
    }
    case 'containers-storage':
      await checkStorageName(text, ref.image);
      return storageSink(text);
    case 'rootfs':
      throw new RechunkerError(
        'UNSUPPORTED',
        `${text}: rootfs: is a source only; write the image to oci:DIR[:TAG] or oci-archive:FILE[:TAG] and unpack it where you need the tree`,
      );
    default:
      return unsupported(ref, 'destination');
  }
}

/** `oci-archive:-`: an archive in a private directory, sent to stdout once complete (stdout-sink.ts). */
async function stdoutArchive(
  text: string,
  tag: string | undefined,
  Archive: typeof ArchiveSinkType,
): Promise<ImageSink> {
  const [{ stdoutSink }, { makeWorkDir, removeWorkDir }] = await Promise.all([
    import('./stdout-sink.js'),
    import('../util/work-dir.js'),
  ]);
  const dir = await makeWorkDir(undefined, 'rechunker-stdout-');
  const file = path.join(dir, 'image.tar');
  return stdoutSink(text, new Archive(text, file, tag), file, () => removeWorkDir(dir));
}

/**
 * A name to give an image in the store is a registry reference (containers/image parses it so):
 * checked before any work, as docker:// names are, and not when skopeo imports the finished image.
 * An image id names an image that is there already, not one to write.
 */
async function checkStorageName(text: string, image: string): Promise<void> {
  if (/^[0-9a-f]{64}$/.test(image))
    throw new RechunkerError(
      'USAGE',
      `${text}: an image id names an image already in the store; name the new one NAME[:TAG]`,
    );
  const { parseDockerReference } = await import('../registry/index.js');
  try {
    parseDockerReference(image);
  } catch (e) {
    if (!(e instanceof RechunkerError)) throw e;
    throw new RechunkerError(e.code, e.message.replace(`"docker://${image}"`, `"${text}"`), { cause: e });
  }
}

/** `containers-storage:...`: a private OCI layout imported by skopeo once complete (storage-sink.ts). */
async function storageSink(text: string): Promise<ImageSink> {
  const [{ storageSink: makeStorageSink }, { LayoutSink }, { makeWorkDir, removeWorkDir }] = await Promise.all([
    import('../storage/storage-sink.js'),
    import('../layout/layout-sink.js'),
    import('../util/work-dir.js'),
  ]);
  const dir = await makeWorkDir(undefined, 'rechunker-storage-out-');
  return makeStorageSink(text, new LayoutSink(text, dir, 'staged'), `oci:${dir}:staged`, text, () =>
    removeWorkDir(dir),
  );
}
