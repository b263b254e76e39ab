// A containers/storage overlay store written by hand, as store-index.ts documents it, with one
// image of the given layers; each layer's tar-split record is cut from a real tar.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { sha256 } from '../../src/oci/digest.js';
import { bigDataFileName } from '../../src/storage/store-index.js';

const num = (b: Buffer, at: number, len: number) =>
  parseInt(
    b
      .subarray(at, at + len)
      .toString('latin1')
      .replace(/\0.*$/, '')
      .trim() || '0',
    8,
  );

/** Cut a plain ustar archive (no PAX, no long names) into tar-split's JSON lines. */
export function tarSplitOf(tar: Buffer): string {
  const lines: string[] = [];
  let pos = 0;
  const seg = (b: Buffer) => lines.push(JSON.stringify({ type: 2, payload: b.toString('base64'), position: pos++ }));
  let at = 0;
  while (at + 512 <= tar.length && tar.subarray(at, at + 512).some((x) => x !== 0)) {
    const header = tar.subarray(at, at + 512);
    const name = header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const size = num(header, 124, 12);
    const type = String.fromCharCode(header[156]!);
    seg(header);
    const body = type === '0' || type === '\0' ? size : 0;
    lines.push(JSON.stringify({ type: 1, name, size: body, payload: null, position: pos++ }));
    at += 512;
    if (body > 0) {
      const padded = Math.ceil(body / 512) * 512;
      if (padded > body) seg(tar.subarray(at + body, at + padded));
      at += padded;
    }
  }
  seg(tar.subarray(at));
  return lines.join('\n') + '\n';
}

export interface FakeLayer {
  tar: Buffer;
  /** Files of the diff dir: path -> content (directories are made as needed). */
  files: Record<string, string | Buffer>;
  tarSplit?: boolean;
}

export async function writeFakeStore(
  root: string,
  name: string,
  layers: FakeLayer[],
): Promise<{ imageId: string; diffIds: string[] }> {
  const diffIds = layers.map((l) => sha256(l.tar));
  const ids = diffIds.map((d) => d.slice(7));
  await fs.mkdir(path.join(root, 'overlay-layers'), { recursive: true });
  const stored = layers.map((l, i) => ({
    id: ids[i],
    ...(i > 0 ? { parent: ids[i - 1] } : {}),
    'diff-digest': diffIds[i],
    'diff-size': l.tar.length,
  }));
  await fs.writeFile(path.join(root, 'overlay-layers', 'layers.json'), JSON.stringify(stored));
  for (const [i, l] of layers.entries()) {
    const diff = path.join(root, 'overlay', ids[i]!, 'diff');
    await fs.mkdir(diff, { recursive: true });
    for (const [p, body] of Object.entries(l.files)) {
      await fs.mkdir(path.dirname(path.join(diff, p)), { recursive: true });
      await fs.writeFile(path.join(diff, p), body);
    }
    if (l.tarSplit !== false)
      await fs.writeFile(path.join(root, 'overlay-layers', `${ids[i]}.tar-split.gz`), gzipSync(tarSplitOf(l.tar)));
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['A=1'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const configDigest = sha256(config);
  const imageId = configDigest.slice(7);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [],
    }),
  );
  const dir = path.join(root, 'overlay-images', imageId);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'manifest'), manifest);
  await fs.writeFile(path.join(dir, bigDataFileName(configDigest)), config);
  const images = [{ id: imageId, names: [name], layer: ids[ids.length - 1], digest: sha256(manifest) }];
  await fs.writeFile(path.join(root, 'overlay-images', 'images.json'), JSON.stringify(images));
  return { imageId, diffIds };
}
