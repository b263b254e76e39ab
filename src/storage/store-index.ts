import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RechunkerError } from '../errors.js';

/**
 * The overlay driver's store as containers/storage lays it out under its graph root:
 *   overlay-images/images.json   images: id, names, top layer, big-data keys
 *   overlay-images/ID/KEY        big data (manifest, config), KEY spelled by bigDataFileName
 *   overlay-layers/layers.json   layers: id, parent, diff-digest, diff-size
 *   overlay-layers/ID.tar-split.gz   the layer's tar headers and padding (see tar-split.ts)
 *   overlay/ID/diff              the layer's files as extracted
 * containers/storage replaces each JSON file atomically (write and rename), so reading without its
 * lock sees one version or the next, never a torn file.
 */

export interface StoredImage {
  id: string;
  digest?: string;
  digests?: string[];
  names?: string[];
  layer?: string;
  'big-data-names'?: string[];
}

export interface StoredLayer {
  id: string;
  parent?: string;
  'diff-digest'?: string;
  'diff-size'?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** containers/storage's makeBigDataBaseName: keys of [0-9a-z.] as they are, others as '=' + base64. */
export function bigDataFileName(key: string): string {
  return /^[0-9a-z.]*$/.test(key) ? key : '=' + Buffer.from(key, 'utf8').toString('base64');
}

/** The names podman would try for a short name: as written, with :latest, under localhost/ and docker.io. */
export function candidateNames(name: string): string[] {
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  const withTag = name.includes('@') || lastPart.includes(':') ? name : `${name}:latest`;
  const first = withTag.split('/')[0]!;
  const qualified = withTag.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (qualified) return [withTag];
  const library = withTag.includes('/') ? withTag : `library/${withTag}`;
  return [withTag, `localhost/${withTag}`, `docker.io/${library}`];
}

export class StoreIndex {
  constructor(
    readonly root: string,
    readonly driver: string,
    private readonly where: string,
  ) {}

  private async readJson<T>(file: string): Promise<T> {
    let text: string;
    try {
      text = await fs.readFile(path.join(this.root, file), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new RechunkerError(
          'NOT_FOUND',
          `${this.where}: no ${this.driver} store at ${this.root} (${file} is missing)`,
          { cause: e },
        );
      }
      throw new RechunkerError('IO', `${this.where}: cannot read ${path.join(this.root, file)}: ${code ?? String(e)}`, {
        cause: e,
      });
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new RechunkerError('BAD_MANIFEST', `${this.where}: ${path.join(this.root, file)} is not valid JSON`, {
        cause: e,
      });
    }
  }

  images(): Promise<StoredImage[]> {
    return this.readJson<StoredImage[]>(`${this.driver}-images/images.json`);
  }

  layers(): Promise<StoredLayer[]> {
    return this.readJson<StoredLayer[]>(`${this.driver}-layers/layers.json`);
  }

  /** By full id, unique id prefix, name (tag or digest), as podman resolves a local image. */
  async findImage(spec: string): Promise<StoredImage> {
    const images = await this.images();
    const ref = spec.startsWith('@') ? spec.slice(1) : spec;
    if (HEX64.test(ref)) {
      const byId = images.find((i) => i.id === ref);
      if (byId) return byId;
    }
    for (const name of candidateNames(ref)) {
      const at = name.indexOf('@');
      const hit =
        at < 0
          ? images.find((i) => i.names?.includes(name))
          : images.find((i) => {
              const digest = name.slice(at + 1);
              const repo = name.slice(0, at);
              const named = i.names?.some((n) => n === repo || n.startsWith(`${repo}:`)) ?? false;
              return named && (i.digest === digest || (i.digests?.includes(digest) ?? false));
            });
      if (hit) return hit;
    }
    if (/^[0-9a-f]{3,63}$/.test(ref)) {
      const byPrefix = images.filter((i) => i.id.startsWith(ref));
      if (byPrefix.length === 1) return byPrefix[0]!;
      if (byPrefix.length > 1)
        throw new RechunkerError('NOT_FOUND', `${this.where}: id prefix "${ref}" names ${byPrefix.length} images`);
    }
    const known =
      images
        .flatMap((i) => i.names ?? [])
        .slice(0, 8)
        .join(', ') || 'none';
    throw new RechunkerError('NOT_FOUND', `${this.where}: no image "${spec}" in ${this.root} (images: ${known})`);
  }

  /** The image's layers, bottom first. */
  async layerChain(image: StoredImage): Promise<StoredLayer[]> {
    if (!image.layer) return [];
    const byId = new Map((await this.layers()).map((l) => [l.id, l]));
    const chain: StoredLayer[] = [];
    for (let id: string | undefined = image.layer; id; ) {
      const layer = byId.get(id);
      if (!layer) throw new RechunkerError('NOT_FOUND', `${this.where}: layer ${id} is not in layers.json`);
      if (chain.length > 10000)
        throw new RechunkerError('BAD_MANIFEST', `${this.where}: the layers' parents form a loop`);
      chain.push(layer);
      id = layer.parent;
    }
    return chain.reverse();
  }

  async bigData(image: StoredImage, key: string): Promise<Buffer> {
    const file = path.join(this.root, `${this.driver}-images`, image.id, bigDataFileName(key));
    try {
      return await fs.readFile(file);
    } catch (e) {
      throw new RechunkerError('NOT_FOUND', `${this.where}: image ${image.id.slice(0, 12)} has no "${key}" (${file})`, {
        cause: e,
      });
    }
  }

  diffDir(layer: StoredLayer): string {
    return path.join(this.root, this.driver, layer.id, 'diff');
  }

  tarSplitFile(layer: StoredLayer): string {
    return path.join(this.root, `${this.driver}-layers`, `${layer.id}.tar-split.gz`);
  }
}
