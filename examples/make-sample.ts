/**
 * Regenerates examples/sample, the OCI layout the Quick start rechunks:
 *   node --import tsx examples/make-sample.ts
 * Deterministic: the same code writes the same bytes, so the committed layout can be checked.
 *
 * Two layers, like a base image plus one `RUN apt-get upgrade`: the second layer replaces a file
 * without entries for its parent directories (so podman shadows them with default metadata),
 * deletes a file with a whiteout and empties a directory with an opaque marker.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { sha256 } from '../src/oci/digest.js';
import { MediaType } from '../src/oci/types.js';
import { OciLayout } from '../src/layout/oci-layout.js';
import { newEntry, type EntryType, type TarEntry } from '../src/tar/entry.js';
import { writeTar, type TarWriteItem } from '../src/tar/writer.js';

const T0 = 1_700_000_000;
const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');
const ACL = Buffer.from(
  '02000000' + '01000700ffffffff' + '04000500ffffffff' + '0800050004000000' + '10000500ffffffff' + '20000500ffffffff',
  'hex',
);

function item(p: string, type: EntryType, init: Partial<TarEntry> = {}, body?: string | Buffer): TarWriteItem {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return {
    entry: newEntry(p, type, { mtimeSec: T0, size: bytes?.length ?? 0, ...init }),
    ...(bytes ? { body: bytes } : {}),
  };
}

const dir = (p: string, init: Partial<TarEntry> = {}) => item(p, 'dir', init);
const file = (p: string, body: string | Buffer, init: Partial<TarEntry> = {}) => item(p, 'file', init, body);

function dpkg(packages: { name: string; version: string; source?: string; files: string[] }[]): TarWriteItem[] {
  const status = packages
    .map(
      (p) =>
        `Package: ${p.name}\nStatus: install ok installed\nArchitecture: amd64\n${p.source ? `Source: ${p.source}\n` : ''}Version: ${p.version}\n`,
    )
    .join('\n');
  return [
    file('var/lib/dpkg/status', status),
    ...packages.map((p) => file(`var/lib/dpkg/info/${p.name}.list`, p.files.map((f) => `/${f}\n`).join(''))),
  ];
}

const lorem = (n: number, seed: string) =>
  Buffer.from(Array.from({ length: n }, (_, i) => `${seed} line ${i}\n`).join(''));

const base: TarWriteItem[] = [
  dir('dev'),
  item('dev/null', 'chardev', { mode: 0o666, devmajor: 1, devminor: 3 }),
  dir('etc'),
  file('etc/hostname', 'sample\n'),
  dir('etc/skel'),
  file('etc/skel/.bashrc', '# old skeleton\n'),
  dir('usr', { mtimeSec: T0 - 86400 }),
  dir('usr/bin', { mtimeSec: T0 - 3600, mode: 0o755 }),
  file('usr/bin/hello', lorem(2000, 'hello v1'), { mode: 0o755 }),
  // Hardlink headers repeat the target's metadata, as GNU tar and Go's archive/tar write them:
  // containers/storage applies a hardlink header's mode and mtime to the shared inode.
  item('usr/bin/hello-again', 'hardlink', { linkname: 'usr/bin/hello', mode: 0o755 }),
  file('usr/bin/ping', lorem(500, 'ping'), { mode: 0o4755, xattrs: new Map([['security.capability', CAP_NET_RAW]]) }),
  item('usr/bin/sh', 'symlink', { linkname: 'hello' }),
  dir('usr/lib'),
  file('usr/lib/libfoo.so.1', lorem(20000, 'libfoo'), { mode: 0o644 }),
  dir('usr/share'),
  dir('usr/share/doc'),
  dir('usr/share/doc/hello'),
  file('usr/share/doc/hello/README', 'hello, world\n'),
  file('usr/share/doc/hello/old.txt', 'to be deleted\n'),
  dir('var'),
  dir('var/lib'),
  dir('var/lib/dpkg'),
  dir('var/lib/dpkg/info'),
  ...dpkg([
    {
      name: 'hello',
      version: '1.0-1',
      files: [
        'usr/bin/hello',
        'usr/bin/hello-again',
        'usr/bin/sh',
        'usr/share/doc/hello/README',
        'usr/share/doc/hello/old.txt',
      ],
    },
    { name: 'iputils-ping', version: '3:20221126-1', source: 'iputils', files: ['usr/bin/ping'] },
    { name: 'libfoo1', version: '2.1-3', source: 'foo', files: ['usr/lib/libfoo.so.1'] },
  ]),
  dir('var/log'),
  dir('var/log/journal', { mode: 0o2755, gid: 101, xattrs: new Map([['system.posix_acl_access', ACL]]) }),
];

const update: TarWriteItem[] = [
  // No entries for usr or usr/bin: an overlay unpacker gives them default metadata.
  file('usr/bin/hello', lorem(2100, 'hello v2'), { mode: 0o755, mtimeSec: T0 + 86400 }),
  item('usr/bin/hello-again', 'hardlink', { linkname: 'usr/bin/hello', mode: 0o755, mtimeSec: T0 + 86400 }),
  file('usr/share/doc/hello/.wh.old.txt', ''),
  file('etc/skel/.wh..wh..opq', ''),
  file('etc/skel/.profile', '# new skeleton\n', { mtimeSec: T0 + 86400 }),
  ...dpkg([
    {
      name: 'hello',
      version: '1.1-1',
      files: ['usr/bin/hello', 'usr/bin/hello-again', 'usr/bin/sh', 'usr/share/doc/hello/README'],
    },
    { name: 'iputils-ping', version: '3:20221126-1', source: 'iputils', files: ['usr/bin/ping'] },
    { name: 'libfoo1', version: '2.1-3', source: 'foo', files: ['usr/lib/libfoo.so.1'] },
  ]).map((i) => ({ ...i, entry: { ...i.entry, mtimeSec: T0 + 86400 } })),
];

async function tar(items: TarWriteItem[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of writeTar(items)) parts.push(b);
  return Buffer.concat(parts);
}

export async function makeSample(dest: string): Promise<string> {
  await fs.rm(dest, { recursive: true, force: true });
  const layout = new OciLayout(dest);
  const tars = [await tar(base), await tar(update)];
  const layers = [];
  for (const t of tars) {
    const gz = zlib.gzipSync(t, { level: 9 });
    await layout.writeBlobBytes(gz, sha256(gz));
    layers.push({ mediaType: MediaType.OciLayerGzip, digest: sha256(gz), size: gz.length });
  }
  const config = Buffer.from(
    JSON.stringify({
      created: '2023-11-15T22:13:20Z',
      architecture: 'amd64',
      os: 'linux',
      config: {
        Env: ['PATH=/usr/bin'],
        Cmd: ['/usr/bin/sh'],
        Labels: { 'org.opencontainers.image.title': 'rechunker sample' },
      },
      rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) },
      history: [
        { created: '2023-11-14T22:13:20Z', created_by: 'base' },
        { created: '2023-11-15T22:13:20Z', created_by: 'RUN apt-get upgrade' },
      ],
    }),
  );
  await layout.writeBlobBytes(config, sha256(config));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: sha256(config), size: config.length },
      layers,
    }),
  );
  await layout.writeBlobBytes(manifest, sha256(manifest));
  await layout.setManifest(
    { mediaType: MediaType.OciManifest, digest: sha256(manifest), size: manifest.length },
    'latest',
  );
  return sha256(manifest);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const repo = path.basename(path.dirname(here)) === 'dist' ? path.dirname(path.dirname(here)) : path.dirname(here);
  console.log(await makeSample(path.join(repo, 'examples', 'sample')));
}
