import { RechunkerError } from '../errors.js';
import { sha256 } from './digest.js';
import type { StoredManifest } from './transport.js';
import { MediaType } from './types.js';

/**
 * Docker schema 2 media types and the OCI ones that mean the same (containers/image converts
 * with this map when it writes an OCI layout). The blobs are the same bytes under either name.
 */
const OCI_NAME: Readonly<Record<string, string>> = {
  [MediaType.DockerManifest]: MediaType.OciManifest,
  [MediaType.DockerManifestList]: MediaType.OciIndex,
  [MediaType.DockerConfig]: MediaType.OciConfig,
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip':
    'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
};

interface Json {
  mediaType?: string;
  config?: { mediaType?: string };
  layers?: { mediaType?: string }[];
  manifests?: { mediaType?: string; digest: string; size: number }[];
}

/**
 * The manifests (children first, as copy lists them) with every Docker schema 2 manifest and list
 * rewritten under OCI media types, and every index above a rewritten child pointed at its new
 * digest. An OCI layout whose index.json names Docker manifests is one that skopeo and podman
 * cannot read (they find no image under the tag), so an OCI destination gets OCI manifests, as
 * skopeo copy writes it; the digests change, the blobs do not. `converted` says whether any did.
 */
export function toOciManifests(manifests: readonly StoredManifest[]): {
  manifests: StoredManifest[];
  converted: boolean;
} {
  const renamed = new Map<string, { digest: string; size: number; mediaType: string }>();
  const out = manifests.map((m) => {
    const obj = JSON.parse(m.bytes.toString('utf8')) as Json;
    const type = obj.mediaType ?? m.mediaType ?? '';
    let changed = false;
    const rename = (t: string | undefined, what: string): string | undefined => {
      if (t === undefined || !t.startsWith('application/vnd.docker.')) return t;
      const oci = OCI_NAME[t];
      if (oci === undefined)
        throw new RechunkerError('UNSUPPORTED', `manifest ${m.digest}: ${what} of type ${t} has no OCI equivalent`);
      changed = true;
      return oci;
    };
    obj.mediaType = rename(type, 'the manifest') ?? type;
    if (obj.config) obj.config.mediaType = rename(obj.config.mediaType, 'its config');
    for (const l of obj.layers ?? []) l.mediaType = rename(l.mediaType, 'a layer');
    for (const e of obj.manifests ?? []) {
      const child = renamed.get(e.digest);
      if (child === undefined) continue;
      Object.assign(e, child);
      changed = true;
    }
    if (!changed) return m;
    const bytes = Buffer.from(JSON.stringify(obj));
    const next: StoredManifest = { bytes, mediaType: obj.mediaType, digest: sha256(bytes) };
    renamed.set(m.digest, { digest: next.digest, size: bytes.length, mediaType: obj.mediaType });
    return next;
  });
  return { manifests: out, converted: renamed.size > 0 };
}
