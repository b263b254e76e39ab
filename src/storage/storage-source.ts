import { promises as fs } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { RechunkerError } from '../errors.js';
import { describeBytes, HashCounter, sha256, VerifyStream } from '../oci/digest.js';
import type { ImageSource, ResolvedImage } from '../oci/transport.js';
import { MediaType, type Descriptor, type ImageConfig, type Manifest } from '../oci/types.js';
import { writeTar } from '../tar/writer.js';
import { walkDiffDir } from './diff-walk.js';
import { StoreIndex, type StoredLayer } from './store-index.js';
import { assembleTarSplit } from './tar-split.js';

/**
 * `containers-storage:[DRIVER@ROOT+RUNROOT]IMAGE`: an image in podman's and buildah's store, read
 * straight from the overlay driver's files (store-index.ts), no daemon and no `podman save`.
 *
 * The store keeps the image's config and manifest but not its compressed blobs, so the image is
 * offered as skopeo offers it: the stored config as it is, and a manifest of uncompressed layers
 * whose digests are the config's diff_ids. Each layer's tar is rebuilt byte for byte from its
 * tar-split record; a layer without one is made by walking its diff dir (diff-walk.ts), and then
 * its diff_id is that tar's digest, so the config is rewritten with it (and says so in `notes`).
 */
export class StorageSource implements ImageSource {
  readonly kind = 'image' as const;
  readonly notes: string[] = [];
  private readonly index: StoreIndex;
  private readonly layers = new Map<string, { layer: StoredLayer; split: boolean; lowers: StoredLayer[] }>();

  constructor(
    readonly name: string,
    root: string,
    private readonly image: string,
    driver = 'overlay',
  ) {
    if (driver !== 'overlay')
      throw new RechunkerError('UNSUPPORTED', `${name}: only the overlay storage driver can be read (not ${driver})`);
    this.index = new StoreIndex(root, driver, name);
  }

  private resolved: Promise<ResolvedImage> | undefined;

  /** Once per source: a layer without tar-split is walked and hashed here, which is not free. */
  resolve(): Promise<ResolvedImage> {
    this.resolved ??= this.resolveOnce();
    return this.resolved;
  }

  private async resolveOnce(): Promise<ResolvedImage> {
    const image = await this.index.findImage(this.image);
    const stored = JSON.parse((await this.index.bigData(image, 'manifest')).toString('utf8')) as Manifest;
    if (!stored.config?.digest)
      throw new RechunkerError('BAD_MANIFEST', `${this.name}: the stored manifest has no config`);
    let configBytes = await this.index.bigData(image, stored.config.digest);
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const chain = await this.index.layerChain(image);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (chain.length !== diffIds.length) {
      throw new RechunkerError(
        'BAD_MANIFEST',
        `${this.name}: the config lists ${diffIds.length} layers, the store ${chain.length}`,
      );
    }
    const layers: Descriptor[] = [];
    let rewritten = false;
    for (const [i, layer] of chain.entries()) {
      const split = await exists(this.index.tarSplitFile(layer));
      let digest = layer['diff-digest'] ?? diffIds[i]!;
      let size = layer['diff-size'];
      if (!split || size === undefined || digest !== diffIds[i]) {
        const counter = new HashCounter();
        const tar = Readable.from(writeTar(walkDiffDir(this.index.diffDir(layer), this.name)), { objectMode: false });
        await pipelineAsync(tar, counter, new Writable({ write: (_c, _e, cb) => cb() }));
        size = counter.bytes;
        if (counter.digest() !== diffIds[i]) rewritten = true;
        digest = counter.digest();
        this.notes.push(`layer ${i + 1} (${layer.id.slice(0, 12)}) has no tar-split record: made from its diff dir`);
        this.layers.set(digest, { layer, split: false, lowers: [] });
      } else {
        this.layers.set(digest, { layer, split: true, lowers: chain.slice(0, i).reverse() });
      }
      diffIds[i] = digest;
      layers.push({ mediaType: MediaType.OciLayer, digest, size: size! });
    }
    if (rewritten)
      configBytes = Buffer.from(JSON.stringify({ ...config, rootfs: { type: 'layers', diff_ids: diffIds } }));
    const configDesc = describeBytes(MediaType.OciConfig, configBytes);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: configDesc,
      layers,
      ...(stored.annotations ? { annotations: stored.annotations } : {}),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    return {
      manifest,
      manifestBytes,
      manifestDigest: sha256(manifestBytes),
      config: JSON.parse(configBytes.toString('utf8')) as ImageConfig,
      configBytes,
    };
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    const entry = this.layers.get(desc.digest);
    if (!entry)
      throw new RechunkerError('NOT_FOUND', `${this.name}: no layer ${desc.digest} (resolve the image first)`);
    const { layer, split, lowers } = entry;
    const bytes = split
      ? assembleTarSplit(
          this.index.tarSplitFile(layer),
          this.index.diffDir(layer),
          lowers.map((l) => this.index.diffDir(l)),
        )
      : writeTar(walkDiffDir(this.index.diffDir(layer), this.name));
    const what = `layer ${layer.id.slice(0, 12)}${split ? ' rebuilt from its tar-split record' : ''}`;
    return pipeline(
      Readable.from(bytes, { objectMode: false }),
      new VerifyStream(desc.digest, desc.size, what),
      () => {},
    );
  }

  async close(): Promise<void> {}
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
